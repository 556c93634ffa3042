// Core module
