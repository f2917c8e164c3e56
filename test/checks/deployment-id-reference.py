"""
Reference for deployment-id.test.ts: the ids LiteLLM's Router gives deployments
without model_info.id (Router._generate_model_id over the config as PyYAML's safe_load reads
it), one per model_list entry, null where the entry states an id. Reads the YAML on stdin.
"""
import hashlib
import json
import sys

import yaml


def as_text(value):
    # The router appends strings as they are, dicts as json.dumps writes them, the rest as str().
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def generated_id(model_group, litellm_params):
    pieces = [model_group]
    for key, value in litellm_params.items():
        pieces += [as_text(key), as_text(value)]
    return hashlib.sha256("".join(pieces).encode()).hexdigest()


config = yaml.safe_load(sys.stdin)
print(json.dumps([
    None if "id" in (entry.get("model_info") or {}) else generated_id(entry["model_name"], entry["litellm_params"])
    for entry in config["model_list"]
]))
