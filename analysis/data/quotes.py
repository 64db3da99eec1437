"""Does a verbatim quote contain the figure recorded from it?

Three written forms (column ``quote_form``): ``digits`` (with or without thousands separators),
``chinese`` (Chinese numerals or a digit prefix with 万/千/百/亿) and ``words`` (English number
words such as "several thousand"; the figure must then *not* be in the quote as digits).
"""

from __future__ import annotations

import math
import re

_SEP = "[,.\u00a0\u202f\u2009 ]"  # "." too: some outlets write 5.492 for 5,492
_GROUPED = re.compile(r"(?<![\d.])\d{1,3}(?:" + _SEP + r"\d{3})+(?:\.\d+)?")
_PLAIN = re.compile(r"\d+(?:\.\d+)?")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CN_SMALL = {"十": 10, "百": 100, "千": 1000, "仟": 1000}
_CN_BIG = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}
_CN_RUN = re.compile(r"[零〇一二两兩三四五六七八九十百千仟万萬亿億]+")
# 9万, 3.3万, 1萬, and mixed forms such as 1万2000 (= 12,000) or 3万4500 (= 34,500)
_DIGIT_CN = re.compile(r"(\d+(?:\.\d+)?)\s*(十|百|千|仟|万|萬|亿|億)(\d{1,4})?(?![\d.])")
NUMBER_WORDS = {
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "fifteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty",
    "ninety", "hundred", "hundreds", "thousand", "thousands", "million", "millions", "dozen",
    "dozens", "few", "several", "half", "third", "thirds", "quarter", "quarters", "double",
    "doubled", "tens", "majority",
}


def digit_numbers(text: str) -> set[float]:
    """Every number written with digits, read with and without thousands separators."""
    found = {float(m) for m in _PLAIN.findall(text)}
    for m in _GROUPED.findall(text):
        found.add(float(re.sub(_SEP, "", m)))
    return found


def _chinese_run_value(run: str) -> float | None:
    total, section, digit = 0, 0, None
    for ch in run:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_SMALL:
            section += (1 if digit is None else digit) * _CN_SMALL[ch]
            digit = None
        elif ch in _CN_BIG:
            section += digit or 0
            total += (section or 1) * _CN_BIG[ch]
            section, digit = 0, None
    value = total + section + (digit or 0)
    return float(value) if value else None


def chinese_numbers(text: str) -> set[float]:
    """Numbers written as 9万, 3.3万, 1.8万, 1萬, 1万2000, 一万, 三千五百 and so on."""
    found = set()
    for num, unit, rest in _DIGIT_CN.findall(text):
        value = float(num) * {**_CN_SMALL, **_CN_BIG}[unit]
        found.add(value)
        if rest:
            found.add(value + float(rest))
    for run in _CN_RUN.findall(text):
        value = _chinese_run_value(run)
        if value is not None:
            found.add(value)
    return found


def _candidates(figure: float, unit: str) -> list[float]:
    cands = [figure]
    if unit == "share":
        cands.append(figure * 100.0)
    return cands


def _matches(figure: float, numbers: set[float], unit: str) -> bool:
    return any(
        math.isclose(c, n, rel_tol=1e-9, abs_tol=1e-9) for c in _candidates(figure, unit)
        for n in numbers
    )


def has_number_word(text: str) -> bool:
    words = set(re.findall(r"[a-z]+", text.lower()))
    return bool(words & NUMBER_WORDS)


def check_quote(figure: float, quote: str, form: str, unit: str) -> str | None:
    """None if the quote carries the figure in the declared form, else the reason."""
    if form == "digits":
        if _matches(figure, digit_numbers(quote), unit):
            return None
        return f"figure {figure:g} not found in quote as digits"
    if form == "chinese":
        if _matches(figure, chinese_numbers(quote) | digit_numbers(quote), unit):
            return None
        return f"figure {figure:g} not found in quote as Chinese numerals"
    if form == "words":
        if _matches(figure, digit_numbers(quote), unit):
            return f"figure {figure:g} is written in digits; quote_form should be 'digits'"
        if not has_number_word(quote):
            return "quote_form 'words' but the quote has no number word"
        return None
    return f"unknown quote_form {form!r}"
