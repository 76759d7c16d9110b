"""Preset templates: a config whose strings may hold `{{variable}}` placeholders, and the declared variables
(name, type, required, default) that fill them. A string that is only a placeholder takes the variable's typed
value (a port stays an integer); a placeholder inside other text is replaced by the value's text.

A template never stores a credential: where a config takes one (`password`, ...), a template holds only a
placeholder, whose variable has no default, so the secret is given when a migration is made and is then kept
encrypted on the migration like any other."""
from __future__ import annotations

import re
from typing import Any

from apps.api.errors import ValidationFailed

from .credentials import SECRET_KEYS

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
#: Variable types and the Python values each accepts (a bool is not an integer here).
TYPES = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,)}


def uses(template: object, path: str = "") -> list[tuple[str, str]]:
    """Every (variable, dotted path of the string that uses it) in `template`, in document order."""
    if isinstance(template, dict):
        return [use for key, value in template.items() for use in uses(value, f"{path}.{key}" if path else str(key))]
    if isinstance(template, list):
        return [use for index, value in enumerate(template) for use in uses(value, f"{path}.{index}")]
    if isinstance(template, str):
        return [(name, path) for name in PLACEHOLDER.findall(template)]
    return []


def placeholders(template: object) -> dict[str, str]:
    """{variable: the dotted path of its first use} in `template`."""
    found: dict[str, str] = {}
    for name, where in uses(template):
        found.setdefault(name, where)
    return found


def without_secrets(template: Any) -> Any:
    """`template` with every credential taken out (presets and templates never store one), except a credential
    that is only a placeholder: that is a reference to a value given when a migration is made."""
    if isinstance(template, dict):
        return {key: without_secrets(value) for key, value in template.items()
                if key not in SECRET_KEYS or (isinstance(value, str) and PLACEHOLDER.fullmatch(value.strip()))}
    return template


def secret_variables(template: object) -> set[str]:
    """The variables that fill a credential of `template` (its key is a secret's, as in `source.password`)."""
    return {name for name, where in uses(template) if where.rsplit(".", 1)[-1] in SECRET_KEYS}


def matches(value: object, kind: str) -> bool:
    return isinstance(value, TYPES[kind]) and not (kind != "boolean" and isinstance(value, bool))


def validate_variables(variables: object, template: object, *, field: str = "variables",
                       template_field: str = "config_template") -> list[dict[str, Any]]:
    """The declared variables, checked: each {name, type, required?, default?, description?} once, a default of
    its type (none for a credential's), every placeholder of `template` declared and every variable used (400
    naming the field, `template_field.<path>` for a placeholder, otherwise)."""
    if not isinstance(variables, list):
        raise ValidationFailed(details={field: ["A list of {name, type, required, default}."]})
    errors, declared, secret = {}, {}, secret_variables(template)
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
        elif "default" in variable and name in secret:
            errors[f"{where}.default"] = ["This variable fills a credential, which is never stored: give its value "
                                          "when you create a migration, not as a default."]
        declared[name] = {"name": name, "type": kind, "required": variable.get("required", False),
                          **({"default": variable["default"]} if "default" in variable else {}),
                          **({"description": variable["description"]} if "description" in variable else {})}
    used = placeholders(template)
    for name, where in used.items():
        if name not in declared:
            errors[f"{template_field}.{where}"] = [f"{{{{{name}}}}} is not a declared variable."]
    for index, variable in enumerate(variables):
        if isinstance(variable, dict) and variable.get("name") in declared and variable["name"] not in used:
            errors.setdefault(f"{field}.{index}.name", [f"{variable['name']} is declared but not used in "
                                                        f"{template_field}: use it as {{{{{variable['name']}}}}} "
                                                        "or leave it out."])
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
