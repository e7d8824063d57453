"""Amounts and durations as the API takes them: decimal strings, never binary floats."""

import datetime
from decimal import Decimal, InvalidOperation
from typing import Optional, Union, overload

Amount = Union[str, Decimal, int]
Duration = Union[str, int, datetime.timedelta]


def amount_arg(value: Amount, name: str = "amount") -> str:
    """The decimal string the API takes for an amount given as str, Decimal or int.

    Raises TypeError for a float (or anything else) and ValueError for a Decimal that is not
    a finite number. A str goes as it is: the daemon checks it and answers INVALID_AMOUNT.
    """
    if isinstance(value, bool):
        raise TypeError("%s must be a str or decimal.Decimal, not bool" % name)
    if isinstance(value, float):
        raise TypeError(
            "%s must be a str or decimal.Decimal, not float: a float cannot hold most decimal "
            "amounts exactly (0.1 + 0.2 != 0.3), so pass %r or Decimal(%r) instead"
            % (name, _example(value), _example(value))
        )
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("%s must be a finite number, not %s" % (name, value))
        # "f" keeps 1E+2 as "100" and 1E-7 as "0.0000001": the API takes no exponents
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    raise TypeError("%s must be a str or decimal.Decimal, not %s" % (name, type(value).__name__))


def duration_arg(value: Duration, name: str = "duration") -> Union[str, int]:
    """A duration as the API takes it: a str like "90s", "10m", "1h30m", "2d", a whole number
    of milliseconds, or a datetime.timedelta (sent as milliseconds)."""
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(
            "%s must be a str like '10m', a whole number of milliseconds or a "
            "datetime.timedelta, not %s" % (name, type(value).__name__)
        )
    if isinstance(value, datetime.timedelta):
        ms = value // datetime.timedelta(milliseconds=1)
        return int(ms)
    if isinstance(value, (str, int)):
        return value
    raise TypeError(
        "%s must be a str like '10m', a whole number of milliseconds or a datetime.timedelta, "
        "not %s" % (name, type(value).__name__)
    )


@overload
def to_decimal(value: Union[str, Decimal]) -> Decimal: ...


@overload
def to_decimal(value: None) -> None: ...


def to_decimal(value: Optional[Union[str, Decimal]]) -> Optional[Decimal]:
    """The Decimal of an amount of an answer (amounts come as strings like ``"75.5"``).

    ``None`` stays ``None`` (an answer's ``reserve`` or ``buyNow`` when not set), so
    ``to_decimal(auction["terms"]["reserve"])`` needs no check first. Raises ValueError for a
    string that is not a decimal number.
    """
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if not isinstance(value, str):
        raise TypeError("to_decimal takes an amount string, not %s" % type(value).__name__)
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ValueError("%r is not a decimal amount" % value) from None


def _example(value: float) -> str:
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text
