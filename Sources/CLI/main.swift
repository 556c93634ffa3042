print("swejepa")
