"""
Reference for the deployment-id tests: the id LiteLLM's Router holds for each model_list entry of
a config read as PyYAML's safe_load reads it (Router.set_model_list): a stated model_info.id as
ModelInfo keeps it (an int, bool included, through str(); None for None, which gets a random
uuid4), else Router._generate_model_id over model_name and litellm_params, after the router has
swapped top-level os.environ/ values for their secrets (get_secret reads the environment).

Reads one YAML document on stdin and prints a JSON list, one id per entry. With --many, reads a
JSON list of YAML documents and prints one such list per document, or {"load_error": ...} where
safe_load refuses the text; an entry whose id Python cannot make (it raises) is {"error": ...}.
"""
import hashlib
import json
import os
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


def get_secret(value):
    return os.environ.get(value[len("os.environ/"):])


def router_id(entry):
    info = entry.get("model_info", {})
    if "id" in info:
        stated = info["id"]
        if stated is None:
            return None
        if isinstance(stated, int):
            return str(stated)
        if not isinstance(stated, str):
            raise TypeError("ModelInfo.id must be a str")  # pydantic refuses it
        return stated
    params = dict(entry["litellm_params"])
    for key, value in params.items():
        if isinstance(value, str) and value.startswith("os.environ/"):
            params[key] = get_secret(value)
    return generated_id(entry["model_name"], params)


def ids_of(config):
    out = []
    for entry in config["model_list"]:
        try:
            out.append(router_id(entry))
        except Exception as err:  # the router would fail to start on this entry
            out.append({"error": repr(err)})
    return out


if "--many" in sys.argv[1:]:
    results = []
    for text in json.load(sys.stdin):
        try:
            config = yaml.safe_load(text)
        except Exception as err:
            results.append({"load_error": repr(err)})
            continue
        results.append(ids_of(config))
    print(json.dumps(results))
else:
    print(json.dumps(ids_of(yaml.safe_load(sys.stdin))))
