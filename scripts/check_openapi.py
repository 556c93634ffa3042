#!/usr/bin/env python3
"""Validates openapi/openapi.yaml as OpenAPI 3.1 and checks house conventions.

Usage: python3 scripts/check_openapi.py [path/to/openapi.yaml]
Needs: pip install openapi-spec-validator  (not needed by `make test`; the Swift test
Tests/ServerTests/OpenAPITests.swift checks route coverage without it).

Checks, beyond the schema validation: every operation has a unique operationId and at least one
4xx response; every `$ref` resolves (the validator does this); every path parameter in a template
is declared.
"""
import re
import sys
from pathlib import Path

try:
    from openapi_spec_validator import validate
    from openapi_spec_validator.readers import read_from_filename
except ImportError:
    sys.exit("openapi-spec-validator is missing: pip install openapi-spec-validator")

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "openapi" / "openapi.yaml"
    spec, _ = read_from_filename(str(path))
    try:
        validate(spec)
    except Exception as e:  # OpenAPIValidationError, or a referencing error for a dangling $ref
        path_in_spec = "/".join(str(p) for p in getattr(e, "absolute_path", []) or [])
        print(f"error: {path}: {type(e).__name__}: {str(e).splitlines()[0][:300]}"
              + (f" (at {path_in_spec})" if path_in_spec else ""), file=sys.stderr)
        return 1
    problems, seen, count = [], {}, 0
    for template, item in spec.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method, op in item.items():
            if method not in METHODS:
                continue
            count += 1
            where = f"{method.upper()} {template}"
            op_id = op.get("operationId")
            if not op_id:
                problems.append(f"{where}: no operationId")
            elif op_id in seen:
                problems.append(f"{where}: operationId {op_id} repeats {seen[op_id]}")
            else:
                seen[op_id] = where
            if not any(str(code).startswith("4") for code in op.get("responses", {})):
                problems.append(f"{where}: no 4xx response")
            declared = set()
            for p in shared + op.get("parameters", []):
                if "$ref" in p:
                    name = p["$ref"].rsplit("/", 1)[-1]
                    p = spec["components"]["parameters"][name]
                if p.get("in") == "path":
                    declared.add(p["name"])
            for name in re.findall(r"\{([^}]+)\}", template):
                if name not in declared:
                    problems.append(f"{where}: path parameter {{{name}}} is not declared")
    for p in problems:
        print("error:", p, file=sys.stderr)
    if problems:
        return 1
    print(f"{path}: valid OpenAPI {spec['openapi']}, {len(spec['paths'])} paths, {count} operations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
