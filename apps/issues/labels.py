"""What a list of labels may be (GitHub's limits: 50 characters a label; we keep at most 20 per item)."""
from django.core.exceptions import ValidationError

MAX_LABELS = 20
MAX_LABEL_LENGTH = 50


def validate_labels(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(label, str) for label in value):
        raise ValidationError("Give a list of label names.")
    if len(value) > MAX_LABELS:
        raise ValidationError(f"At most {MAX_LABELS} labels.")
    if any(not label.strip() or len(label) > MAX_LABEL_LENGTH for label in value):
        raise ValidationError(f"Each label is 1 to {MAX_LABEL_LENGTH} characters.")
    if len(set(value)) != len(value):
        raise ValidationError("Each label once.")
