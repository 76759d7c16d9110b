"""Preset templates: a config whose strings may hold `{{variable}}` placeholders, and the declared variables
(name, type, required, default) that fill them. A string that is only a placeholder takes the variable's typed
value (a port stays an integer); a placeholder inside other text is replaced by the value's text."""
from __future__ import annotations

import re
from typing import Any

from apps.api.errors import ValidationFailed

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
#: Variable types and the Python values each accepts (a bool is not an integer here).
TYPES = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,)}


def placeholders(template: object, path: str = "") -> dict[str, str]:
    """{variable: the dotted path of its first use} in `template`."""
    found: dict[str, str] = {}
    if isinstance(template, dict):
        for key, value in template.items():
            for name, where in placeholders(value, f"{path}.{key}" if path else str(key)).items():
                found.setdefault(name, where)
    elif isinstance(template, list):
        for index, value in enumerate(template):
            for name, where in placeholders(value, f"{path}.{index}").items():
                found.setdefault(name, where)
    elif isinstance(template, str):
        found.update(dict.fromkeys(PLACEHOLDER.findall(template), path))
    return found


def matches(value: object, kind: str) -> bool:
    return isinstance(value, TYPES[kind]) and not (kind != "boolean" and isinstance(value, bool))


def validate_variables(variables: object, template: object, *, field: str = "variables") -> list[dict[str, Any]]:
    """The declared variables, checked: each {name, type, required?, default?, description?} once, a default of
    its type, and every placeholder of `template` declared (400 naming the field otherwise)."""
    if not isinstance(variables, list):
        raise ValidationFailed(details={field: ["A list of {name, type, required, default}."]})
    errors, declared = {}, {}
    for index, variable in enumerate(variables):
        where = f"{field}.{index}"
        if not isinstance(variable, dict):
            errors[where] = ["An object {name, type, required, default}."]
            continue
        unknown = sorted(set(variable) - {"name", "type", "required", "default", "description"})
        errors.update({f"{where}.{key}": ["Unknown field."] for key in unknown})
        name, kind = variable.get("name"), variable.get("type", "string")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or name in declared:
            errors[f"{where}.name"] = ["A unique name of letters, digits and underscores."]
            continue
        if kind not in TYPES:
            errors[f"{where}.type"] = [f"Choose one of: {', '.join(TYPES)}."]
            continue
        if not isinstance(variable.get("required", False), bool):
            errors[f"{where}.required"] = ["Must be a valid boolean."]
        if "default" in variable and variable["default"] is not None and not matches(variable["default"], kind):
            errors[f"{where}.default"] = [f"Must be a {kind}."]
        declared[name] = {"name": name, "type": kind, "required": variable.get("required", False),
                          **({"default": variable["default"]} if "default" in variable else {}),
                          **({"description": variable["description"]} if "description" in variable else {})}
    for name, where in placeholders(template).items():
        if name not in declared:
            errors[f"config_template.{where}"] = [f"{{{{{name}}}}} is not a declared variable."]
    if errors:
        raise ValidationFailed("The preset is invalid.", details=errors)
    return list(declared.values())


def variable_values(variables: list[dict[str, Any]], given: dict[str, Any]) -> dict[str, Any]:
    """The value of every declared variable: given (of its type), else its default; a required one missing, a
    mistyped or an undeclared one is a 400 naming `variables.<name>`."""
    declared = {variable["name"]: variable for variable in variables}
    errors = {f"variables.{name}": ["Not a variable of this preset."] for name in given if name not in declared}
    values = {}
    for name, variable in declared.items():
        if name in given:
            if not matches(given[name], variable["type"]):
                errors[f"variables.{name}"] = [f"Must be a {variable['type']}."]
            values[name] = given[name]
        elif "default" in variable:
            values[name] = variable["default"]
        elif variable["required"]:
            errors[f"variables.{name}"] = ["Required by this preset."]
    if errors:
        raise ValidationFailed("The preset's variables are invalid.", details=errors)
    return values


def render(template: object, values: dict[str, Any]) -> object:
    """`template` with its placeholders filled from `values`; keys whose variable has no value are left out."""
    if isinstance(template, dict):
        rendered = {key: render(value, values) for key, value in template.items()}
        return {key: value for key, value in rendered.items() if value is not _UNSET}
    if isinstance(template, list):
        return [value for value in (render(item, values) for item in template) if value is not _UNSET]
    if isinstance(template, str):
        whole = PLACEHOLDER.fullmatch(template.strip())
        if whole:
            return values.get(whole.group(1), _UNSET)
        return PLACEHOLDER.sub(lambda match: str(values.get(match.group(1), "")), template)
    return template


_UNSET = object()
