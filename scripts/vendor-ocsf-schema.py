#!/usr/bin/env python3
"""Writes the JSON Schema of OCSF's compliance_finding class (cloud profile) with every
object schema it refers to, for crates/posture-report/tests/schemas.rs.

Needs `pip install ocsf-json-schema==1.2.0` (it ships the compiled OCSF schemas). See
crates/posture-report/tests/schemas/README.md.
"""
import json, sys
from ocsf_json_schema import get_ocsf_schema, OcsfJsonSchema
V = "1.7.0"
o = OcsfJsonSchema(get_ocsf_schema(V))
def load(uri):
    path, _, query = uri.partition("?")
    parts = path.split(f"/schema/{V}/")[1].split("/", 1)
    profiles = query.removeprefix("profiles=").split(",") if query else []
    return o.get_class_schema(parts[1], profiles) if parts[0] == "classes" else o.get_object_schema(parts[1], profiles)
root = load(f"https://schema.ocsf.io/schema/{V}/classes/compliance_finding?profiles=cloud")
seen = {root["$id"]: root}
todo = [root]
def refs(x):
    if isinstance(x, dict):
        for k, v in x.items():
            if k == "$ref": yield v
            else: yield from refs(v)
    elif isinstance(x, list):
        for v in x: yield from refs(v)
while todo:
    s = todo.pop()
    for r in refs(s):
        if r not in seen:
            seen[r] = load(r); todo.append(seen[r])
json.dump({"root": root["$id"], "schemas": dict(sorted(seen.items()))}, sys.stdout, indent=1, sort_keys=True)
