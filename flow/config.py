"""The YAML build configuration: one schema, validated before any work starts.

Errors are collected into a ``ConfigError`` whose lines name the key path, the value given and what
is allowed; the CLI prints them and exits with code 2.
"""
from __future__ import annotations

import datetime
import difflib
import functools
import math
import re
import shlex
import unicodedata
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Literal, Optional, Union

import yaml
from pydantic import (BaseModel, ConfigDict, Field, PrivateAttr, TypeAdapter, ValidationError, ValidationInfo,
                      field_serializer, field_validator, model_validator)
from pydantic_core import PydanticCustomError

from .errors import ConfigError, shown_key
from .fixedpoint import OVERFLOW_MODES, ROUNDING_MODES
from .hls.plan import check_names
from .precision import layer_kinds, resolve_precisions  # layer names depend on the model shape

BUILTIN_DATASETS = ("seattle-temps", "sf-temps", "seattle-weather")
# a date (or a date and time) as YAML and ISO 8601 write it: 2010-08-31, 2010-8-31 10:00
_DATE = re.compile(r"\s*[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[ Tt].*)?\s*")


def _admits(annotation, kind) -> bool:
    """Whether ``kind`` (bool, int, float, str) is one of the types an annotation allows (Optional, Union,
    Annotated and Literal looked through; a Literal of ints admits int)."""
    if annotation is kind:
        return True
    args = getattr(annotation, "__args__", ()) or ()
    if getattr(annotation, "__origin__", None) is Literal:
        return any(type(a) is kind for a in args)
    if getattr(annotation, "__origin__", None) in (dict, list):
        return False
    return any(_admits(a, kind) for a in args)


def _takes_list(annotation) -> bool:
    """Whether an annotation is a list (or an Optional / Annotated one)."""
    if getattr(annotation, "__origin__", None) is list:
        return True
    return getattr(annotation, "__origin__", None) is not dict and any(
        _takes_list(a) for a in getattr(annotation, "__args__", ()) or ())


def _number_kind(annotation) -> str:
    return "an integer" if not _admits(annotation, float) else "a number"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def __setattr__(self, name, value):
        """A loaded configuration was checked as a whole (keys against each other, the data, the part): a
        field set afterwards would skip those checks, so it is refused with the way to change it."""
        if name.startswith("_"):  # private attributes (where the YAML was read from) are not fields
            return super().__setattr__(name, value)
        raise ConfigError(f"{type(self).__name__}.{name} = {value!r}: a loaded configuration is read-only (it was "
                          f"checked as a whole when it was loaded); change it by loading a changed copy, as "
                          f"api.load_config({{**cfg.model_dump(mode='json'), 'section': {{...}}}}), or edit the YAML")

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_numbers(cls, v, info: ValidationInfo):
        """YAML's true / false are booleans, and Python takes them for 1 / 0: refused where a number is meant."""
        field = cls.model_fields[info.field_name]
        annotation = field.annotation
        if isinstance(v, (set, frozenset)) and _takes_list(annotation):  # YAML's !!set {a, b}: ordered by hash
            written = "[" + ", ".join(sorted(map(str, v))) + "]"
            why = (" and the order of data.features is the IP's input layout (one input channel each, in that order)"
                   if cls.__name__ == "DataConfig" and info.field_name == "features" else " and this list's order counts")
            raise PydanticCustomError(
                "yaml_set", f"a YAML set (!!set) has no order,{why}; write a list in the order you mean, such as "
                            f"{written}")
        values = v.items() if isinstance(v, dict) and getattr(annotation, "__origin__", None) is dict else [(None, v)]
        inner = annotation.__args__[1] if isinstance(v, dict) and getattr(annotation, "__origin__", None) is dict \
            else annotation
        for key, value in values:
            if isinstance(value, bool) and not _admits(inner, bool) and (_admits(inner, int) or _admits(inner, float)):
                at = f"{shown_key(key)}: " if key is not None else ""
                raise PydanticCustomError(
                    "bool_number", f"{at}{str(value).lower()} is a boolean (YAML true / false), not a number: write "
                                   f"{_number_kind(inner)}{(' ' + _range_of(field)) if key is None and _range_of(field) else ''}")
        return v


def _day(value) -> Optional[datetime.date]:
    """A date without a time, as YAML reads one or as the text writes it (2010-08-31), else None."""
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    try:
        return datetime.date.fromisoformat(value.strip()) if isinstance(value, str) else None
    except ValueError:
        return None


class SplitConfig(Strict):
    """Chronological split: fractions (all < 1, summing to 1: every row is used) or row counts (all integers
    >= 1; rows past them are not used, which ``flow.data`` says)."""

    train: Union[int, float] = 0.6
    val: Union[int, float] = 0.2
    test: Union[int, float] = 0.2
    # own: each split's windows take their look-back from its own rows; previous: the validation and test
    # windows take theirs from the rows before the split, so every row of a split is forecast (the protocol
    # of the long-horizon benchmark: LTSF-Linear's and PatchTST's data_loader.py, Dataset_ETT_hour)
    lookback: Literal["own", "previous"] = "own"

    @model_validator(mode="before")
    @classmethod
    def _whole_row_counts(cls, data):
        """Row counts written as floats (1200.0, as pandas prints them) are row counts when no value is a
        fraction: one sensible meaning, taken as window: 8.0 is taken as 8."""
        if not isinstance(data, dict):
            return data
        given = {k: data.get(k, cls.model_fields[k].default) for k in ("train", "val", "test")}
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 1
               and float(v).is_integer() for v in given.values()):
            return {**data, **{k: int(v) for k, v in given.items() if k in data}}
        return data

    @model_validator(mode="before")
    @classmethod
    def _no_dates(cls, data, info: ValidationInfo):
        """A split given at dates (train: 2010-08-31, which YAML reads as a date, or the date quoted): one message
        for the section, with what it takes and, for three dates in order, the row counts that split there."""
        if not isinstance(data, dict):
            return data
        given = [k for k in ("train", "val", "test")
                 if isinstance(v := data.get(k), datetime.date) or (isinstance(v, str) and _DATE.fullmatch(v))]
        if not given:
            return data
        texts = (info.context or {}).get(WRITTEN) or {}
        dates = {k: texts.get(("data", "split", k), (None,))[0] or str(data[k]) for k in given}
        said = _and([f"{k} = {t}" for k, t in dates.items()])
        counts, days = "", [_day(data[k]) for k in dates]
        if len(dates) == 3 and None not in days and days == sorted(days):
            train, val, test = dates.values()
            counts = (f"; to split at these dates, count the data's rows: train the rows up to {train}, val those "
                      f"after it up to {val}, test those after that up to {test}")
        raise PydanticCustomError(
            "split_date", f"{said} {'is a date' if len(dates) == 1 else 'are dates'}, and data.split takes no dates: "
                          f"it takes fractions of the rows, in time order, that sum to 1 (train: 0.6, val: 0.2, test: "
                          f"0.2), or row counts (train: 1200, val: 400, test: 400; the rows after them are not "
                          f"used){counts}")

    @field_validator("train", "val", "test", mode="before")
    @classmethod
    def _a_number(cls, v, info: ValidationInfo):
        """One message per key for what is not a fraction or a row count (a percentage, NaN, a boolean)."""
        allowed = "allowed: a fraction like 0.6 (all three fractions, summing to 1) or a row count (an integer)"
        if isinstance(v, bool):
            raise PydanticCustomError("split_bool", f"a boolean (YAML true / false) is not a fraction, and not a row "
                                                    f"count either; {allowed}")
        if isinstance(v, float) and not math.isfinite(v):
            raise PydanticCustomError("split_nan", f"{'NaN' if math.isnan(v) else 'an infinity'} is not a fraction or "
                                                   f"a row count; {allowed}")
        if isinstance(v, str) and re.fullmatch(r"\s*([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?\s*", v):
            raise PydanticCustomError("split_text", f"a string (quoted in the YAML), not a number; write it without "
                                                    f"the quotes ({v.strip()}); {allowed}")
        if isinstance(v, str):
            percent = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*%\s*", v)
            hint = (f" (for percentages write fractions: {float(percent.group(1)) / 100:g} for {v.strip()}, as in "
                    f"train: 0.6, val: 0.2, test: 0.2)" if percent else "")
            raise PydanticCustomError("split_text", f"{allowed}{hint}")
        return v

    @model_validator(mode="after")
    def _consistent(self):
        vals = (self.train, self.val, self.test)
        if any(v <= 0 for v in vals):
            raise ValueError("each of train, val, test must be > 0")
        fractions = all(isinstance(v, float) and v < 1 for v in vals)
        rows = all(isinstance(v, int) for v in vals)
        given = {k: getattr(self, k) for k in ("train", "val", "test")}
        if not (fractions or rows):
            def kind(v):
                return ("a row count" if isinstance(v, int) else "a fraction" if v < 1
                        else "a whole number, so a row count" if v.is_integer()
                        else "neither a fraction (< 1) nor a row count (not an integer)")
            kinds = [kind(v) for v in given.values()]
            shown = ", ".join(f"{k}: {v!r} ({what}{'' if k in self.model_fields_set else ', the default'})"
                              for (k, v), what in zip(given.items(), kinds))
            mixed = "a fraction" in kinds and any(k.endswith("a row count") for k in kinds)
            raise PydanticCustomError(
                "split_mix", f"{shown}: use fractions (all < 1, summing to 1) or row counts (all integers)"
                             f"{', not a mix' if mixed else ''}")
        total = sum(vals)
        if fractions and abs(total - 1.0) > 1e-6:
            unused = (f"{(1 - total) * 100:.3g}% of the rows would be in no split" if total < 1
                      else "that is more rows than the data has")
            defaults = [k for k in given if k not in self.model_fields_set]
            left = (f"; {' and '.join(f'{k} was not given and took its default {given[k]:g}' for k in defaults)} "
                    f"(train: {given['train']:g}, val: {given['val']:g}, test: {given['test']:g}): give every key of "
                    f"data.split" if defaults else "")
            raise PydanticCustomError(
                "split_sum", f"fractions sum to {total:.6g}, not 1 ({unused}){left}; fractions are shares of the rows and must sum to 1; to use "
                             f"fewer rows, give row counts (integers) instead")
        return self

    @property
    def is_rows(self) -> bool:
        return isinstance(self.train, int)


GAPS = ("refuse", "fill", "allow")  # what flow.data does with missing time steps


class DataConfig(Strict):
    source: Literal["builtin", "csv"] = "builtin"
    dataset: Literal[BUILTIN_DATASETS] = "seattle-temps"  # type: ignore[valid-type]
    path: Optional[str] = None
    # a column is named as the header row has it; "null" in json_schema_extra: what null means (error messages)
    date_column: Optional[str] = Field("date", json_schema_extra={
        "column": True, "null": "a file without time stamps (rows in file order)"})
    features: Optional[list[str]] = Field(None, min_length=1, json_schema_extra={
        "column": True, "null": "every numeric column of the file but the date column"})
    target: str = Field("temp", json_schema_extra={"column": True})
    window: int = Field(24, ge=2, le=512)
    horizon: int = Field(1, ge=1, le=512)
    # future values forecast at once: the target at horizon, horizon + 1, ... horizon + steps - 1 steps after
    # the window's last step (one value by default; the head and the IP's output carry ``steps`` values)
    steps: int = Field(1, ge=1, le=720)
    split: SplitConfig = SplitConfig()
    scaling: Literal["standard", "minmax"] = "standard"
    # levels: the scaled columns; differences: each column's change from the previous step of the
    # window (0 at the first step), with several columns over its spread on the training rows
    # (flow.data.change_scale), plus the target's level as a last channel (for predict_delta). The
    # default is differences: the ETTh1 evidence in docs/benchmarks-accuracy.md, where levels lose to persistence
    inputs: Literal["levels", "differences"] = "differences"
    # missing time steps (stamps further apart than the most common step): refuse, fill them in by linear
    # interpolation, or allow windows across them (with a warning); only with a date column. allow is the default:
    # the built-in seattle-temps and sf-temps miss one hour (2010-03-14 03:00, the change to summer time)
    gaps: Literal[GAPS] = "allow"  # type: ignore[valid-type]

    # how ``path`` was made absolute, for messages: the path as written and the folder it was read against
    _path_given: Optional[str] = PrivateAttr(None)
    _path_base: Optional[str] = PrivateAttr(None)
    _path_base_is_config_dir: bool = PrivateAttr(False)

    @model_validator(mode="wrap")
    @classmethod
    def _absolute_path(cls, data, handler, info: ValidationInfo):
        """A relative ``path`` is read against the configuration file's folder (the validation context's
        ``CONFIG_DIR``) or, for a configuration given as a mapping, against the current directory; the
        validated config holds the absolute path, so a dumped config finds its data from anywhere."""
        given = data.get("path") if isinstance(data, dict) else None
        if not isinstance(given, str) or not given:
            return handler(data)
        if "\0" in given:
            raise ValueError(f"data.path {given!r} holds a NUL character; give the path of the CSV file")
        config_dir = (info.context or {}).get(CONFIG_DIR)
        base = Path(config_dir) if config_dir is not None else Path.cwd()
        try:
            expanded = Path(given).expanduser()
        except RuntimeError:  # '~someone' with no such user: taken as written, and then not found
            expanded = Path(given)
        resolved = expanded if expanded.is_absolute() else (base / expanded).resolve()
        if url_given(given) and not resolved.exists():
            raise PydanticCustomError("path_url", url_refusal("data.path", url_given(given)))
        cfg = handler({**data, "path": str(resolved)})
        cfg._path_given = given  # private attributes: not fields, not dumped, not frozen
        if not expanded.is_absolute():
            cfg._path_base, cfg._path_base_is_config_dir = str(base), config_dir is not None
        return cfg

    def path_origin(self) -> str:
        """``data.path = '<as written>'`` and, for a relative path, where it was read from."""
        given = self._path_given if self._path_given is not None else self.path
        if self._path_base is None:
            return f"data.path = {given!r}"
        where = "the configuration file's folder" if self._path_base_is_config_dir else "the current directory"
        return f"data.path = {given!r} (relative to {where} {self._path_base}, so {self.path})"

    @model_validator(mode="after")
    def _csv_needs_path(self):
        if self.source == "csv" and not self.path:
            raise ValueError("source 'csv' needs data.path")
        if self.features and len(set(self.features)) != len(self.features):
            raise ValueError(f"features lists a column twice: {self.features}")
        return self


class PatchConfig(Strict):
    """Tokens of ``length`` consecutive steps (every input channel), ``stride`` steps apart (PatchTST)."""

    # description: what a missing key is, in its message; {length} is the length given beside it
    length: int = Field(ge=1, le=512, description="the steps of one patch, 1 .. data.window")
    stride: int = Field(ge=1, le=512, description="the steps from the start of one patch to the next, 1 .. {length} "
                                                  "(the length: patches that do not overlap; less: patches that "
                                                  "overlap)")


class ModelConfig(Strict):
    d_model: int = Field(16, ge=2, le=256)
    heads: int = Field(1, ge=1, le=16)
    layers: int = Field(1, ge=1, le=8)
    ffn: Optional[int] = Field(None, ge=1, le=1024)
    # mean: the head reads the mean over the tokens; mean_last: that and the last token; flatten: every token
    head: Literal["mean", "mean_last", "flatten"] = "mean"
    predict_delta: bool = True  # forecast = last observed target + the head's output (docs/benchmarks-accuracy.md)
    patch: Optional[PatchConfig] = None  # one token per step when unset

    @model_validator(mode="after")
    def _heads_divide(self):
        if self.d_model % self.heads:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by heads ({self.heads})")
        return self

    @property
    def ffn_width(self) -> int:
        return self.ffn if self.ffn is not None else 4 * self.d_model


def _refuse_empty(override, message: str):
    """An override (of a tensor, of a layer) that sets nothing is refused: it would do nothing."""
    if all(getattr(override, k) is None for k in type(override).model_fields):
        raise PydanticCustomError("empty_override", message)
    return override


def _by_name(each: str, names: str, example: dict, *every: str) -> dict:
    """The ``json_schema_extra`` of a mapping keyed by name, for the message when it is given a single value: what it
    holds, what its keys name, one entry of it, and the keys of its section that set one value for every name."""
    return {"each": each, "names": names, "example": example, "every": list(every)}


class TensorSpec(Strict):
    """Override of one tensor's fixed-point type; unset fields keep the default."""

    bits: Optional[int] = Field(None, ge=2, le=16)
    # auto: chosen from the float model after float training (flow/training/binary_points.py)
    integer: Optional[Union[Annotated[int, Field(ge=-8, le=16)], Literal["auto"]]] = None
    rounding: Optional[Literal[ROUNDING_MODES]] = None  # type: ignore[valid-type]
    overflow: Optional[Literal[OVERFLOW_MODES]] = None  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _sets_something(self):
        return _refuse_empty(self, "an override with no field set would do nothing; give bits, integer, rounding or "
                                   "overflow, or remove it")


class IOSpec(Strict):
    bits: int = Field(16, ge=2, le=32)
    integer: Union[Annotated[int, Field(ge=1, le=16)], Literal["auto"]] = "auto"


class SoftmaxConfig(Strict):
    table_size: int = Field(256, ge=4, le=4096)
    index_frac: Optional[int] = Field(None, ge=-4, le=16)
    exp_bits: Optional[int] = Field(None, ge=2, le=18)
    prob_bits: Optional[int] = Field(None, ge=2, le=16)


class LayerOverride(Strict):
    weight: Optional[TensorSpec] = None
    bias: Optional[TensorSpec] = None
    output: Optional[TensorSpec] = None
    scale: Optional[TensorSpec] = None
    shift: Optional[TensorSpec] = None
    table: Optional[TensorSpec] = None

    @model_validator(mode="after")
    def _sets_something(self):
        return _refuse_empty(self, "a layer override with no tensor set would do nothing; give weight, bias, output, "
                                   "scale, shift or table, or remove it")


class QuantConfig(Strict):
    enabled: bool = True
    bits: int = Field(8, ge=2, le=16)
    # integer bits of weights / activations; auto: each tensor's own, chosen from the float model
    weight_integer: Union[Annotated[int, Field(ge=-4, le=8)], Literal["auto"]] = "auto"
    act_integer: Union[Annotated[int, Field(ge=-4, le=10)], Literal["auto"]] = "auto"
    rounding: Literal[ROUNDING_MODES] = "conv"  # type: ignore[valid-type]
    overflow: Literal[OVERFLOW_MODES] = "sat"  # type: ignore[valid-type]
    input: IOSpec = IOSpec(bits=12)
    output: IOSpec = IOSpec(bits=16)
    softmax: SoftmaxConfig = SoftmaxConfig()
    layers: dict[str, LayerOverride] = Field({}, json_schema_extra=_by_name(
        "overrides of each layer's tensors", "layer", {"enc0.ffn1": {"weight": {"bits": 4}}},
        "bits", "rounding", "overflow"))


class TrainingConfig(Strict):
    float_epochs: int = Field(100, ge=0, le=10000)  # an upper bound: early stopping (patience) ends the phase
    qat_epochs: int = Field(100, ge=0, le=10000)  # an upper bound too: narrow widths need longer (docs/numerics.md)
    batch_size: int = Field(64, ge=1, le=65536)
    learning_rate: float = Field(1e-3, gt=0, le=1)
    qat_learning_rate: float = Field(3e-4, gt=0, le=1)
    seed: int = Field(0, ge=0, le=2**32 - 1)
    patience: int = Field(15, ge=1, le=10000)  # the float phase's
    # QAT's: at its lower rate, with rounding in every forward, a narrow model's validation loss falls in rare
    # steps between long flat stretches (docs/benchmarks-accuracy.md, "QAT patience")
    qat_patience: int = Field(30, ge=1, le=10000)

    @model_validator(mode="after")
    def _some_epochs(self):
        if self.float_epochs + self.qat_epochs == 0:
            raise ValueError("float_epochs + qat_epochs must be >= 1")
        return self


# the clock limit of a part without its own figure in flow.parts.FMAX_BUFG: the fastest of those figures (its own
# data sheet may well give less; not known here)
UNCHECKED_CLOCK_MHZ = 628.0
# a target.clock_uncertainty written as a plain number below this (but not 0) is refused as unsure: a fraction or
# nanoseconds read as percent; tools schedule with 12.5 % (Vivado HLS) or 27 % (Vitis HLS) of the period by default
UNCERTAINTY_UNSURE = 5


class TargetConfig(Strict):
    part: str = "xc7s15ftgb196-2"
    clock_mhz: float = Field(100.0, gt=0)  # at most the part's clock tree limit (_below_the_clock_tree_limit)
    # share of every resource that `hls.parallelism: auto` leaves free (routing, the tool's own logic)
    headroom: float = Field(0.2, ge=0, lt=1)
    # percent of the clock period the HLS tool keeps free when it schedules (set in both dialects: their own
    # defaults differ, Vitis HLS 27 %, Vivado HLS 12.5 %); written as a number (percent) or with its unit, '12.5%'
    # or '1.25ns' (held as percent)
    clock_uncertainty: float = Field(12.5, ge=0, lt=100)
    # percent of the clock at which the design's signals toggle, for the energy estimate (flow/estimate/energy.py):
    # 12.5, Vivado's vectorless default, is the activity the energy coefficients were read at
    toggle_rate: float = Field(12.5, gt=0, le=200)

    @field_validator("toggle_rate", mode="before")
    @classmethod
    def _toggle_percent(cls, v):
        """A percentage, as Vivado's set_switching_activity takes it: a plain number below 1 reads as a fraction
        written where percent is meant (0.125 for 12.5 %), so it is refused with both readings; '0.5%' is taken."""
        if isinstance(v, str) and v.strip().endswith("%"):
            try:
                return float(v.strip()[:-1])
            except ValueError:
                return v
        if isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < 1:
            raise PydanticCustomError(
                "toggle_fraction", "a percentage of the clock (Vivado's vectorless default is 12.5), so {v} is {v} %: "
                "likely a fraction written where percent is meant; write {p} for {p} %, or '{v}%' for {v} % itself",
                {"v": f"{v:g}", "p": f"{100 * v:g}"})
        return v

    @field_validator("clock_uncertainty", mode="before")
    @classmethod
    def _a_percentage(cls, v, info):
        """A number is a percentage; below ``UNCERTAINTY_UNSURE`` (but not 0) it reads as well as a fraction (0.125
        for 12.5 %) or as nanoseconds (1.25 at 100 MHz for 12.5 %), which would leave the scheduler next to no
        margin: refused, with each reading; the value with its unit ('1.25%', '1.25ns') says which is meant."""
        clock = info.data.get("clock_mhz")
        period = 1e3 / clock if clock else None
        if isinstance(v, str):
            m = re.fullmatch(r"\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(%|ns)?\s*", v)
            if not m:
                raise PydanticCustomError("uncertainty_text", "a percentage of the clock period: a number, or the "
                                                              "value with its unit, such as '12.5%' or '1.25ns'")
            value, unit = float(m.group(1)), m.group(2)
            if value < 0:
                raise cls._negative(period, clock)
            if unit is None:  # a quoted number is the number, as clock_mhz: '100' is: checked as one below
                v = value
            elif unit == "%" or period is None:  # no clock (refused): its own error is the one to read
                return value
            elif value >= period:
                raise PydanticCustomError(
                    "uncertainty_period", f"{value:g} ns is the whole {period:g} ns clock period or more "
                                          f"(target.clock_mhz = {clock:g}); allowed: less than {period:g} ns")
            else:
                return value / period * 100
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v < 0:
            raise cls._negative(period, clock)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < UNCERTAINTY_UNSURE:
            of = f" of the {period:g} ns period ({v * period * 10:g} ps)" if period else " of the period"
            readings = ([f"write {v * 100:g} for {v * 100:g} % (a fraction)"] if v < 1 else []) + (
                [f"write {v / period * 100:.3g} (or '{v:g}ns') for {v:g} ns"] if period and v < period else [])
            raise PydanticCustomError(
                "uncertainty_unsure", f"a percentage of the clock period, so {v:g} keeps {v:g} %{of} free for the "
                                      f"tool, far below both tools' defaults (Vivado HLS 12.5 %, Vitis HLS 27 %): "
                                      f"likely {'a fraction or ' if v < 1 else ''}nanoseconds written where percent "
                                      f"is meant; {', '.join(readings)}, or '{v:g}%' for {v:g} % itself; allowed: 0, "
                                      f"a number from {UNCERTAINTY_UNSURE} to below 100 (percent), or the value with "
                                      f"its unit")
        return v

    @staticmethod
    def _negative(period, clock) -> PydanticCustomError:
        """The margin the tool keeps free is a length of time: below 0 it is no margin at all."""
        ns = f", or 0 ns to below {period:g} ns (the period at target.clock_mhz = {clock:g})" if period else ""
        return PydanticCustomError("uncertainty_negative", f"negative: it is the part of the clock period the HLS "
                                                           f"tool keeps free, 0 at the least; allowed: 0 to below "
                                                           f"100 (percent){ns}")

    @field_serializer("clock_uncertainty", when_used="json")
    def _with_its_unit(self, v: float):
        """A dumped configuration reads back as it was meant: a percentage that would be refused as a plain
        number is written with its unit."""
        return f"{v:g}%" if 0 < v < UNCERTAINTY_UNSURE else v

    @field_validator("part")
    @classmethod
    def _real_part(cls, v: str) -> str:
        from .parts import UnknownPart, parse_part

        try:
            return parse_part(v).part
        except UnknownPart as exc:
            raise PydanticCustomError("unknown_part", str(exc)) from None

    @field_validator("clock_mhz")
    @classmethod
    def _below_the_clock_tree_limit(cls, v: float, info) -> float:
        from .parts import clock_ceiling, parse_part

        if "part" not in info.data:  # the part was refused: that error is the one to read
            return v
        part = parse_part(info.data["part"])
        ceiling = clock_ceiling(part)
        if ceiling is not None and v > ceiling[0]:
            raise ValueError(f"above {ceiling[0]:g} MHz, the most the global clock tree (FMAX_BUFG) of "
                             f"{part.part} (speed grade {part.speed_grade}) runs at ({ceiling[1]}); allowed: "
                             f"0 < clock_mhz <= {ceiling[0]:g}")
        if ceiling is None and v > UNCHECKED_CLOCK_MHZ:  # the fastest limit of the grades with a figure (flow.parts)
            raise ValueError(f"above {UNCHECKED_CLOCK_MHZ:g} MHz, faster than the global clock tree of any 7-series "
                             f"speed grade tsflow has a data-sheet figure for ({UNCHECKED_CLOCK_MHZ:g} MHz); allowed: "
                             f"0 < clock_mhz <= {UNCHECKED_CLOCK_MHZ:g} for {part.part}")
        return v


STORAGE_KINDS = ("registers", "lutram", "bram", "auto")
ROM_KINDS = ("registers", "lutrom", "bram", "auto")
MULTIPLIER_KINDS = ("dsp", "lut", "auto")  # auto: by operand width (flow.hls.plan.AUTO_LUT_MUL_MAX_BITS)
INTERFACES = ("ap_vld", "s_axilite", "axis")  # the IP's ports: flow.hls.interface


class HLSConfig(Strict):
    """Generated design: HLS tool dialect, storage of each buffer and constant table, lanes and
    multipliers per layer (``auto``: the flow chooses, within ``target.headroom``)."""

    tool: Literal["vitis", "vivado"] = "vitis"
    interface: Literal[INTERFACES] = "ap_vld"  # type: ignore[valid-type]
    default_storage: Literal[STORAGE_KINDS] = "auto"  # type: ignore[valid-type]
    storage: dict[str, Literal[STORAGE_KINDS]] = Field({}, json_schema_extra=_by_name(  # type: ignore[valid-type]
        "the storage of each buffer", "buffer", {"enc0.ffn1": "bram"}, "default_storage"))
    default_rom: Literal[ROM_KINDS] = "auto"  # type: ignore[valid-type]
    rom: dict[str, Literal[ROM_KINDS]] = Field({}, json_schema_extra=_by_name(  # type: ignore[valid-type]
        "the storage of each constant table", "table", {"enc0.ffn1.weight": "bram"}, "default_rom"))
    default_parallelism: Union[Literal["auto"], Annotated[int, Field(ge=1, le=4096)]] = "auto"
    parallelism: dict[str, Annotated[int, Field(ge=1, le=4096)]] = Field({}, json_schema_extra=_by_name(
        "the lanes of each layer", "layer", {"enc0.ffn1": 8}, "default_parallelism"))
    default_multiplier: Literal[MULTIPLIER_KINDS] = "auto"  # type: ignore[valid-type]
    multiplier: dict[str, Literal[MULTIPLIER_KINDS]] = Field({}, json_schema_extra=_by_name(  # type: ignore[valid-type]
        "the multiplier of each layer", "layer", {"enc0.ffn1": "lut"}, "default_multiplier"))


IDENTIFIER = r"^[A-Za-z][A-Za-z0-9_]*$"
# a pattern said in words, with an example, in json_schema_extra: the message when a value does not match
IDENTIFIER_WORDS = "letters, digits and _, starting with a letter (no '-', '.' or space)"


class ExportConfig(Strict):
    """IP-catalog metadata (vendor:library:ip_name:version, the IP's VLNV) and the optional steps of the vendor
    scripts."""

    vendor: str = Field("tsflow", pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$", json_schema_extra={
        "words": "letters, digits, _, '.' and '-', starting with a letter (no space)", "example": "acme.com"})
    library: str = Field("hls", pattern=IDENTIFIER, json_schema_extra={"words": IDENTIFIER_WORDS,
                                                                       "example": "my_lib"})
    ip_name: str = Field("tsflow_forecaster", pattern=IDENTIFIER, json_schema_extra={"words": IDENTIFIER_WORDS,
                                                                                     "example": "my_forecaster"})
    version: str = Field("1.0", pattern=r"^[0-9]+\.[0-9]+$", json_schema_extra={
        "words": "MAJOR.MINOR, two whole numbers joined by one dot, as the IP catalog numbers versions (no third "
                 "part, no 'v')", "example": "1.0"})
    description: str = Field("Integer-only Transformer forecaster (tsflow)", min_length=1, max_length=200)
    cosim: bool = False
    cosim_windows: int = Field(16, ge=1, le=1_000_000)  # test windows the RTL co-simulation runs (from the first)
    local_memory_kb: Literal[8, 16, 32, 64] = 16  # the MicroBlaze's code and data memory (export --block-design)

    @field_validator("local_memory_kb", mode="before")
    @classmethod
    def _quoted_kb(cls, v):
        """A quoted number is the number, as in every number key ('16' is 16)."""
        return int(v.strip()) if isinstance(v, str) and v.strip().isdigit() else v
    implementation: bool = False

    @field_validator("version", mode="before")
    @classmethod
    def _quoted_version(cls, v, info: ValidationInfo):
        """A version written unquoted is a YAML number, which drops a trailing zero (1.10 is 1.1): the fix quotes
        it as the file has it (``load_config`` passes each number's text), else as the number reads."""
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            text, line = ((info.context or {}).get(WRITTEN) or {}).get(("export", "version"), (None, None))
            if text is not None:
                raise PydanticCustomError(
                    "version_number", f"line {line} writes version: {text}, which YAML reads as the number {v!r}, "
                                      f"not as the text of a version; quote it as written: version: '{text}'")
            quoted = repr(v) if isinstance(v, float) else f"{v}.0"
            raise PydanticCustomError(
                "version_number", f"YAML read this as the number {v!r}, not the text of a version; quote it: version: "
                                  f"'{quoted}' (as written: a number drops a trailing zero, so 1.10 reads as 1.1 and "
                                  f"is written '1.10')")
        return v


OBJECTIVES = ("val_mse", "latency", "lut", "lutram", "ff", "bram18", "dsp", "resources", "energy")


class SearchConfig(Strict):
    """``tsflow search``: which settings are free (``space``: a config key, dotted, -> its choices) and
    what is minimised; each candidate that fits gets ``qat_epochs`` of QAT from a float model of its
    architecture trained once for ``float_epochs``."""

    space: dict[str, Annotated[list, Field(min_length=1)]] = Field({}, json_schema_extra=_by_name(
        "the choices of each free key", "dotted key", {"model.d_model": [8, 16]}))
    objectives: Annotated[list[Literal[OBJECTIVES]], Field(min_length=1)] = ["val_mse", "latency"]  # type: ignore[valid-type]
    float_epochs: int = Field(10, ge=1, le=10000)
    qat_epochs: int = Field(3, ge=1, le=10000)
    seed: int = Field(0, ge=0, le=2**32 - 1)

    @field_validator("objectives")
    @classmethod
    def _distinct(cls, v: list) -> list:
        if len(set(v)) != len(v):
            raise ValueError("each objective at most once")
        return v


NAME = re.compile(r"[A-Za-z0-9.][A-Za-z0-9_.-]*")


class FlowConfig(Strict):
    name: str = "default"
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    quantization: QuantConfig = QuantConfig()
    training: TrainingConfig = TrainingConfig()
    target: TargetConfig = TargetConfig()
    hls: HLSConfig = HLSConfig()
    export: ExportConfig = ExportConfig()
    search: SearchConfig = SearchConfig()

    @field_validator("name")
    @classmethod
    def _name_chars(cls, v: str) -> str:
        # TensorFlow names the Keras model after it: its root scope names are [A-Za-z0-9.][A-Za-z0-9_.\\/>-]*
        if not NAME.fullmatch(v) or not v.strip("."):
            raise PydanticCustomError(
                "name_chars", "allowed: ASCII letters, digits, '-', '_' and '.', starting with a letter, a digit or "
                              "'.', and not only dots (TensorFlow names the model after it)")
        return v

    @model_validator(mode="after")
    def _patches_tile_the_window(self):
        """Patches cover every step of the window: none longer than it, no step between two patches, none
        after the last."""
        patch, window = self.model.patch, self.data.window
        if patch is None:
            return self
        if patch.length > window:
            raise ValueError(f"model.patch.length = {patch.length} is longer than data.window = {window}; allowed: "
                             f"1 .. {window}")
        if patch.stride > patch.length:
            raise ValueError(f"model.patch.stride = {patch.stride} is longer than model.patch.length = "
                             f"{patch.length}, so the steps between two patches would be left out; allowed: "
                             f"1 .. {patch.length} (patches may overlap)")
        left = (window - patch.length) % patch.stride
        if left:
            fits = [w for w in (window - left, window - left + patch.stride) if patch.length <= w <= 512]
            raise ValueError(f"model.patch: data.window = {window} leaves its last {left} step(s) out of every patch "
                             f"(patches of {patch.length} steps, {patch.stride} apart); data.window must be "
                             f"model.patch.length plus a whole number of strides, e.g. "
                             f"{' or '.join(map(str, fits))}")
        if self.tokens < 2:  # as data.window >= 2: attention and the mean need a sequence
            raise ValueError(f"model.patch = {{length: {patch.length}, stride: {patch.stride}}} makes data.window = "
                             f"{window} one token: attention over one token and a mean of one are no sequence model; "
                             f"allowed: at least 2 tokens, model.patch.length + model.patch.stride at most {window} "
                             f"(e.g. {{length: {window // 2}, stride: {window // 2}}})")
        return self

    @property
    def tokens(self) -> int:
        """The Transformer's sequence length: the window's steps, or its patches."""
        patch, window = self.model.patch, self.data.window
        return window if patch is None else (window - patch.length) // patch.stride + 1

    @model_validator(mode="after")
    def _something_to_train(self):
        if not self.quantization.enabled and self.training.float_epochs == 0:
            raise ValueError("quantization.enabled is false, so training.float_epochs must be >= 1")
        return self


def _walk(loc):
    """Follow an error location through the schema: (model holding the last key, its FieldInfo)."""
    model, field = FlowConfig, None
    for part in loc:
        if model is None or isinstance(part, int):
            return None, None
        field = model.model_fields.get(str(part))
        if field is None:  # a free-form key, such as a layer name under quantization.layers
            model = LayerOverride if model is QuantConfig else None
            continue
        holder, model = model, _model_in(field.annotation)
        if holder is QuantConfig and part == "layers":
            model = QuantConfig  # the next key is a layer name
    return model, field


def _range_of(field) -> str:
    bounds = {}
    for meta in getattr(field, "metadata", []):
        for name in ("ge", "gt", "le", "lt"):
            if getattr(meta, name, None) is not None:
                bounds[name] = getattr(meta, name)
    lo = f">= {bounds['ge']}" if "ge" in bounds else (f"> {bounds['gt']}" if "gt" in bounds else "")
    hi = f"<= {bounds['le']}" if "le" in bounds else (f"< {bounds['lt']}" if "lt" in bounds else "")
    return " and ".join(b for b in (lo, hi) if b)


# location parts pydantic adds for union members and validators; real keys never look like these
_SCALAR_TAGS = {"int", "float", "str", "bool", "list", "dict", "constrained-int", "constrained-float", "constrained-str"}


def _is_tag(part) -> bool:
    return isinstance(part, str) and ("[" in part or part in _SCALAR_TAGS)


def _union_member(err: dict) -> str:
    """What one member of a union allows, from its error: a literal, or an integer with its bound."""
    ctx = err.get("ctx") or {}
    if "expected" in ctx:
        return str(ctx["expected"])
    bounds = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
    bound = next((f" {op} {ctx[k]}" for k, op in bounds.items() if k in ctx), "")
    kind = "an integer" if "int" in err["type"] or any("int" in str(p) for p in err["loc"]) else "a number"
    return kind + bound


def _keys_of(loc: tuple, raw) -> list:
    """The parts of an error location that are keys (or list positions) of the input ``raw``; the
    others are tags pydantic adds, dropped unless the input has them (a layer named 'int' is a key)."""
    keys, node = [], raw
    for part in loc:
        if (isinstance(node, dict) and part in node) or (
                isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)):
            keys.append(part)
            node = node[part]
        elif not _is_tag(part):
            keys.append(part)
            node = None
    return keys


def _raw_at(raw, keys):
    node = raw
    for k in keys:
        if not isinstance(node, dict) or k not in node:
            return None
        node = node[k]
    return node


def _nested(keys: list, value):
    for k in reversed(keys):
        value = {k: value}
    return value


def _glued_role(loc: list, raw) -> Optional[str]:
    """A layer name with its tensor (and the tensor's field) glued on by dots, ``quantization.layers.enc0.q.weight:
    {bits: 4}`` or ``enc0.q.weight.bits: 4``, or a tensor with its field glued on, ``enc0.q: {weight.bits: 4}``:
    the nesting to write."""
    if len(loc) < 3 or tuple(loc[:2]) != ("quantization", "layers") or not isinstance(loc[2], str):
        return None
    roles, fields = LayerOverride.model_fields, TensorSpec.model_fields
    layers = ((raw or {}).get("quantization") or {}).get("layers") if isinstance(raw, dict) else None
    key = loc[2]
    parts = key.split(".")
    at = next((i for i, part in enumerate(parts) if i and part in roles), None)
    if at is not None:
        layer, role, rest = ".".join(parts[:at]), parts[at], parts[at + 1:]
        if rest and not all(r in fields for r in rest):
            return None
        glued = f"the tensor {role!r}" + (f" and its field {'.'.join(rest)!r}" if rest else "")
        what = f"{key!r} is the layer name {layer!r} with {glued} glued on by {'dots' if rest else 'a dot'}"
    elif len(parts) > 1 and parts[-1] in fields:  # enc0.q.bits: a field with no tensor
        layer, role, rest = ".".join(parts[:-1]), "weight", parts[-1:]
        what = (f"{key!r} is the layer name {layer!r} with the field {parts[-1]!r} glued on by a dot, and a field "
                f"belongs to one tensor of the layer (weight, bias, output, ...)")
    elif len(loc) >= 4 and isinstance(loc[3], str) and "." in loc[3] and loc[3].split(".")[0] in roles:
        role, *rest = loc[3].split(".")
        if not all(r in fields for r in rest):
            return None
        layer, key = loc[2], loc[3]
        spec = _raw_at(layers, [loc[2], loc[3]])
        written = _nested(rest, spec) if spec is not None else "{...}"
        return (f"  quantization.layers.{shown_key(loc[2])}.{shown_key(key)}: {key!r} is the tensor {role!r} with its "
                f"field {'.'.join(rest)!r} glued on by a dot; write it as {layer}: {{{role}: {_flow_yaml(written)}}}")
    else:
        return None
    spec = _raw_at(layers, [key])
    written = _flow_yaml(_nested(rest, spec)) if spec is not None else "{...}"
    return f"  quantization.layers.{shown_key(key)}: {what}; write it as {layer}: {{{role}: {written}}}"


def _sections(model: type[BaseModel] = None, path: tuple = ()) -> dict:
    """Every section of the schema (not the free-form mappings, such as quantization.layers): path -> its model."""
    model = model or FlowConfig
    found = {path: model}
    for name, f in model.model_fields.items():
        sub = _model_in(f.annotation)
        if sub is not None and getattr(f.annotation, "__origin__", None) is not dict and not _takes_dict(f.annotation):
            found.update(_sections(sub, path + (name,)))
    return found


def _takes_dict(annotation) -> bool:
    if getattr(annotation, "__origin__", None) is dict:
        return True
    return any(_takes_dict(a) for a in getattr(annotation, "__args__", ()) or ())


def _flow_yaml(value) -> str:
    """A value as YAML's flow style writes it, on one line: previous, 0.6, [a, b], {bits: 4}."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000, sort_keys=False).strip()
    return text.removesuffix("...").strip()


def _flow_keys(mapping: dict) -> str:
    """Keys and values as written in a mapping, on one line: ``window: 96``, ``model: {d_model: 8}``."""
    return _flow_yaml(mapping)[1:-1]


def _home_hint(loc: list, model, value) -> str:
    """`` (lookback is a key of data.split: write split: {lookback: previous})``: where an unknown key belongs when
    another section of the schema has it (one below this one first, else anywhere), or ''."""
    key, section = loc[-1], tuple(loc[:-1])
    if not isinstance(key, str):
        return ""
    if model is LayerOverride and key in TensorSpec.model_fields and len(section) == 3:  # enc0.q: {bits: 4}
        layer = shown_key(section[2])
        return (f" ({key} is a key of one tensor of the layer, such as its weight, output or bias: write "
                f"{layer}: {{weight: {_flow_yaml({key: value})}}})")
    sections = _sections()
    if section not in sections:
        return ""
    homes = [p for p, m in sections.items() if p != section and key in m.model_fields
             and _fits(m.model_fields[key], value)]
    below = [p for p in homes if p[:len(section)] == section]
    if not homes:  # a key of another section, which this value does not fit: said, unless another tool's name
        misfits = [(".".join(p), m.model_fields[key]) for p, m in sections.items() if p != section
                   and key in m.model_fields]
        said = [f"{key} is a key of {where}, which takes {_takes(f) or 'a value of another kind'}, not "
                f"{_flow_yaml(value)}" for where, f in misfits]
        if not section and isinstance(value, dict):  # a section misspelt: train: {...} for training: {...}
            close = difflib.get_close_matches(key, [k for k, f in FlowConfig.model_fields.items()
                                                    if isinstance(f.default, Strict)], n=1, cutoff=0.6)
            if close:
                return f" (the section {close[0]}: holds keys such as these: write {close[0]}: {_flow_yaml(value)})"
        return "" if key in OTHER_NAMES or not misfits else f" ({'; '.join(said)})"
    dotted = [".".join(p) for p in (below or homes)][:4]
    if not section:  # a top-level key that belongs to a section
        return (f" ({key} is a key of {' and '.join(h + ':' for h in dotted)} indent it below "
                f"{'that section' if len(dotted) == 1 else 'one of them'})")
    if below:
        forms = []
        for p in below[:4]:
            text = _flow_yaml({key: value}) if not isinstance(value, dict) else f"{{{key}: ...}}"
            for part in reversed(p[len(section) + 1:]):
                text = f"{{{part}: {text}}}"
            forms.append(f"{p[len(section)]}: {text}")
        return f" ({key} is a key of {_and(dotted)}: write {' or '.join(forms)} under {'.'.join(section)})"
    return f" ({key} is a key of {_and(dotted)}, not of {'.'.join(section)}: move it there)"


def _dotted_path(model, parts: list) -> list:
    """A dotted key's parts as the nested keys of the YAML: the sections it runs through, then a name of a
    mapping whole (``hls.storage.enc0.q`` -> hls, storage, 'enc0.q'; a layer name keeps its dot, its tensor and
    field are keys below it)."""
    out = []
    for i, name in enumerate(parts):
        out.append(name)
        field = model.model_fields.get(name) if model is not None else None
        if field is not None and _takes_dict(field.annotation):
            rest = parts[i + 1:]
            at = next((j for j, p in enumerate(rest) if j and p in LayerOverride.model_fields), len(rest)) \
                if (model, name) == (QuantConfig, "layers") else len(rest)
            return out + ([".".join(rest[:at])] if rest[:at] else []) + rest[at:]
        model = _model_in(field.annotation) if field is not None else None
    return out


def _dotted_key(loc: list, model, raw) -> Optional[str]:
    """Keys written with dots where the YAML nests (``model.d_model: 8`` at the top level, ``patch.length: 4`` in
    model; the form of search.space keys): one line for the keys of one section, with the nesting to write."""
    key, section = loc[-1], list(loc[:-1])
    if model is None or not isinstance(key, str) or "." not in key:
        return None
    head = key.split(".")[0]
    field = model.model_fields.get(head)
    if field is None or not (_model_in(field.annotation) or _takes_dict(field.annotation)):
        return None
    here = _raw_at(raw, section) if section else raw
    group = [k for k in (here or {}) if isinstance(k, str) and k.split(".")[0] == head and "." in k]
    written: dict = {}
    for k in group:
        node = written
        *parents, last = _dotted_path(model, k.split("."))
        for part in parents:
            if not isinstance(node.get(part, {}), dict):  # 'model.patch: x' beside 'model.patch.length': x shown
                break
            node = node.setdefault(part, {})
        else:
            node[last] = here[k]
    where = f" under {'.'.join(map(shown_key, section))}" if section else ""
    already = f" (in the {head} section the file already has{where})" if head in (here or {}) else where
    names = ", ".join(repr(".".join(map(str, section + [k]))) for k in group)
    what = "a key with dots in its name, which YAML reads as one key" if len(group) == 1 else \
        "keys with dots in their names, which YAML reads as one key each"
    return (f"  {names}: {what}, not as a path (dotted keys are the form of search.space); sections are nested: "
            f"write {_flow_keys(written)}{already}")


@functools.cache
def _layer_parts() -> frozenset:
    """The part after 'enc<i>.' of every encoder layer name: q, k, v, scores, ..., norm2."""
    shape = SimpleNamespace(model=SimpleNamespace(layers=1, head="mean", predict_delta=True))
    return frozenset(name.split(".", 1)[1] for name in layer_kinds(shape) if "." in name)


def _nested_layer(loc: list, raw) -> Optional[str]:
    """A layer name split at its dot into nested keys (``layers: {enc0: {q: {weight: ...}}}``): layer names hold
    their dot and are one key each; one line per outer key, with the keys to write."""
    if len(loc) != 4 or tuple(loc[:2]) != ("quantization", "layers") or not all(isinstance(p, str) for p in loc[2:]):
        return None
    outer, inner = loc[2], loc[3]
    if inner not in _layer_parts():
        return None
    given = _raw_at(raw, ["quantization", "layers", outer]) or {}
    parts = [k for k in given if k in _layer_parts()]
    forms = " and ".join(_flow_keys({f"{outer}.{k}": given[k]}) for k in parts)
    return (f"  quantization.layers.{shown_key(outer)}: not a layer: layer names hold their dot "
            f"({', '.join(f'{outer}.{k}' for k in parts)}) and are one key each; write {forms} directly under "
            f"quantization.layers")


def _fits(field, value) -> bool:
    """Whether ``value`` is valid for ``field`` on its own (its type and bounds; not the checks across keys)."""
    try:
        TypeAdapter(Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
                    ).validate_python(value)
    except ValidationError:
        return False
    return True


def _takes(field) -> str:
    """What a field allows, in a few words: its choices or its range."""
    args = getattr(field.annotation, "__args__", ())
    if getattr(field.annotation, "__origin__", None) is Literal:
        return " or ".join(map(repr, args))
    return _range_of(field)


# keys other tools (LTSF-Linear, PatchTST, Hugging Face time-series models, Keras) name these settings by:
# other name -> (the tsflow key, what it is)
OTHER_NAMES = {
    **dict.fromkeys(("lookback", "look_back", "seq_len", "context_length", "input_length", "input_len",
                     "lookback_window", "history"), ("data.window", "a look-back length")),
    **dict.fromkeys(("pred_len", "prediction_length", "n_steps", "output_length"),
                    ("data.steps", "the number of values forecast at once")),
    **dict.fromkeys(("n_heads", "num_heads", "nhead"), ("model.heads", "the number of attention heads")),
    **dict.fromkeys(("e_layers", "n_layers", "num_layers", "num_encoder_layers"),
                    ("model.layers", "the number of encoder layers")),
    **dict.fromkeys(("d_ff", "dim_feedforward", "ffn_dim"), ("model.ffn", "the width of the feed-forward layer")),
    **dict.fromkeys(("patch_len", "patch_length"), ("model.patch.length", "the steps of one patch")),
    **dict.fromkeys(("lr",), ("training.learning_rate", "the float phase's learning rate")),
}


def _other_name_hint(loc: list, value) -> str:
    """`` (a look-back length is data.window: write window: 96 under data)``: a key another tool names a setting by,
    with the tsflow key that is that setting; and, where a section of tsflow has a key of that name the value does
    not fit, what that one is."""
    key, section = loc[-1], tuple(loc[:-1])
    if not isinstance(key, str) or key not in OTHER_NAMES:
        return ""
    home, what = OTHER_NAMES[key]
    *parents, leaf = home.split(".")
    if tuple(parents) == section:
        form = f"write {_flow_keys({leaf: value})} instead"
    elif not section:
        form = f"write {_flow_keys(_nested(parents, {leaf: value}))}"
    elif tuple(parents[:len(section)]) == section:
        form = f"write {_flow_keys(_nested(parents[len(section):], {leaf: value}))} under {'.'.join(section)}"
    else:
        form = f"write {_flow_keys(_nested(parents, {leaf: value}))} at the top level, not under {'.'.join(section)}"
    same = [(".".join(p + (key,)), m.model_fields[key]) for p, m in _sections().items() if key in m.model_fields]
    other = "".join(f"; {where} is another setting, which takes {_takes(f)}" for where, f in same)
    return f" ({what} is {home}: {form}{other})"


def _and(items: list) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _format_errors(exc: ValidationError, source: str, raw=None, written: dict | None = None) -> str:
    """The message of a failed validation: one line per key, with the value as the file writes it where YAML read
    it as a date (``written``: ``load_yaml``'s texts of the unquoted scalars)."""
    lines = [f"invalid configuration{' ' + source if source else ''}:"]
    unions: dict = {}  # path -> (value shown, what each member allows, location, value)
    written = written or {}
    for err in exc.errors():
        loc = _keys_of(err["loc"], raw) if raw is not None else [p for p in err["loc"] if not _is_tag(p)]
        path = ".".join(map(shown_key, loc)) or "(top level)"
        value = err.get("input")
        text = written.get(tuple(loc), (None,))[0]
        shown = ("{...}" if isinstance(value, dict) else "!!set {" + ", ".join(sorted(map(str, value))) + "}"
                 if isinstance(value, (set, frozenset)) else (text or str(value))
                 if isinstance(value, datetime.date) else repr(value))
        glued = _glued_role(loc, raw)
        if glued:
            lines.append(glued)
            continue
        if err["type"] == "extra_forbidden":
            model, _ = _walk(loc[:-1])
            nested = _dotted_key(loc, model, raw) or _nested_layer(loc, raw)
            if nested:
                lines.append(nested)
                continue
            allowed = ", ".join(sorted(model.model_fields)) if model else ""
            alike = _lookalike(loc[-1], model.model_fields) if model else None
            if alike:
                lines.append(f"  {path} = {shown}: unknown key: {alike}; allowed keys here: {allowed}")
                continue
            home = _home_hint(loc, model, value) or _other_name_hint(loc, value)
            lines.append(f"  {path} = {shown}: unknown key{home}{_non_ascii(loc[-1])}; allowed keys here: {allowed}")
            continue
        rest = list(loc)
        tags = [p for p in err["loc"] if not (rest and p == rest[0] and rest.pop(0) is not None)]
        if any(str(p).startswith(("literal[", "constrained-", "int")) for p in tags):
            unions.setdefault(path, (shown, [], loc, value))[1].append(_union_member(err))
            continue
        _, field = _walk(loc)
        ctx = err.get("ctx") or {}
        if not loc and err["type"] == "value_error":  # a check across sections: its message names the keys
            lines.append(f"  {ctx['error']}")
            continue
        if err["type"] == "missing":
            lines.append(f"  {path}: {_missing_detail(loc, field, raw)}")
            continue
        named = _name_detail(err["type"], _walk([p for p in loc if not isinstance(p, int)])[1], value, loc, raw)
        if named:
            lines.append(f"  {path} = {shown}: {named}")
            continue
        if (len(loc) == 3 and loc[0] == "hls" and loc[1] in ("storage", "rom", "parallelism", "multiplier")
                and isinstance(value, dict) and value):  # enc0: {q: bram}: a name split at its dot
            detail = (f"names hold their dot and are one key each; write "
                      f"{_flow_keys({f'{loc[2]}.{k}': v for k, v in value.items()})} directly under hls.{loc[1]}")
        elif "expected" in ctx:
            alike = _lookalike(value, _choices(field.annotation)) if field is not None else None
            detail = f"{alike + '; ' if alike else ''}allowed: {ctx['expected']}"
        elif err["type"] in ("greater_than_equal", "less_than_equal", "greater_than", "less_than") and field:
            detail = f"allowed: {_range_of(field)}"
        elif err["type"] == "model_type" and (_walk(loc)[0] or (field is not None and _model_in(field.annotation))):
            detail = _section_detail(path, value, _walk(loc)[0] or _model_in(field.annotation))
        elif err["type"] == "string_pattern_mismatch" and field is not None:
            detail = _pattern_detail(loc, field, value, ctx["pattern"])
        elif err["type"] == "dict_type" and field is not None and _mapping_detail(loc, field, value):
            detail = _mapping_detail(loc, field, value)
        elif err["type"] in ("dict_type", "list_type"):  # a mapping (hls.storage) or a list given one value
            kind = "mapping (name: value, one per line below it)" if err["type"] == "dict_type" else "list"
            got = "a list" if isinstance(value, list) else "a mapping" if isinstance(value, dict) else "a single value"
            detail = f"a {kind}, not {got}" + (f"; write it as [{value}]" if err["type"] == "list_type"
                                               and isinstance(value, (str, int, float)) else "")
        elif err["type"] == "string_type" and _text_detail(loc, value, text, field):
            detail = _text_detail(loc, value, text, field)
            shown = shown if isinstance(value, bool) else text or shown
        else:
            detail = _type_detail(err, field, value)
        lines.append(f"  {path} = {shown}: {detail}")
    for path, (shown, members, loc, value) in unions.items():
        lines.append(f"  {path} = {shown}: allowed: {' or '.join(dict.fromkeys(members))}{_port_hint(loc, value, raw)}")
    return "\n".join(dict.fromkeys(lines))


def _char(ch: str) -> str:
    """A character by its code point and Unicode name: 'U+0430 CYRILLIC SMALL LETTER A'."""
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'an unnamed character')}"


def _lookalike(given, known) -> Optional[str]:
    """A key or choice that differs from a known one only where it has a character outside ASCII and the known one
    an ASCII character ('dаta' with a Cyrillic а for data): the two print alike, so each such character is named by
    its code point (as flow.data names a column's); None otherwise."""
    if not isinstance(given, str) or given.isascii():
        return None
    for name in known:
        pairs = [(i, a, b) for i, (a, b) in enumerate(zip(given, name)) if a != b]
        if len(name) == len(given) and pairs and all(not a.isascii() and b.isascii() for _, a, b in pairs):
            which = ", ".join(f"character {i + 1} is {_char(a)}, not the ASCII {b!r}" for i, a, b in pairs)
            return f"{given!r} is not {name}: its {which}; the two print alike but differ: retype it as {name}"
    return None


def _non_ascii(given) -> str:
    """`` ('dаtа' holds U+0430 CYRILLIC SMALL LETTER A at character 2, ...; every key is ASCII)``, or '' for an ASCII
    key: an unknown key with characters that may print like ASCII ones."""
    if not isinstance(given, str) or given.isascii():
        return ""
    where = ", ".join(f"{_char(c)} at character {i + 1}" for i, c in enumerate(given) if not c.isascii())
    return f" ({given!r} holds {where}; every key is ASCII)"


def _choices(annotation) -> list:
    """The texts a Literal allows, looked for through Optional and Union."""
    if getattr(annotation, "__origin__", None) is Literal:
        return [a for a in annotation.__args__ if isinstance(a, str)]
    return [c for a in getattr(annotation, "__args__", ()) or () for c in _choices(a)]


def _text_detail(loc: list, value, text: Optional[str], field) -> Optional[str]:
    """A text key given an unquoted scalar YAML reads as something else (2024-01-01 a date, yes a boolean, 1e3 a
    number): what YAML read, and the key with the value quoted as the file writes it, or, where the key's pattern
    refuses that text too, what the key allows. None for a value of no such kind, and for a boolean or number not
    read from a file (a mapping given to parse_config: no text to quote)."""
    if isinstance(value, bool):  # on, off, yes, no, true, false
        words = f"YAML reads an unquoted {'on, yes or true' if value else 'off, no or false'} as the boolean {value}"
        return f"{words}; quote it: {_quoted(loc, text)}" if text else f"{words}; quote it ('on', 'yes', ...) for the text"
    if isinstance(value, datetime.date):
        text = text or str(value)
        what = "a date and time" if isinstance(value, datetime.datetime) else "a date"
    elif text is None:
        return None
    elif isinstance(value, (int, float)):
        what = f"the number {value!r}"
    else:
        return None
    read = f"YAML reads an unquoted {text} as {what}, not as text"
    pattern = next((m.pattern for m in getattr(field, "metadata", ()) if getattr(m, "pattern", None)), None)
    if pattern and not re.fullmatch(pattern, text):
        return f"{read}, and as text it is not allowed either: {_pattern_detail(loc, field, text, pattern)}"
    return f"{read}; quote it: {_quoted(loc, text)}"


def _quoted(loc: list, text: str) -> str:
    """``name: '2024-01-01'``: a value as the file writes it, quoted, with its key (not for an item of a list)."""
    return f"{loc[-1]}: '{text}'" if loc and isinstance(loc[-1], str) else f"'{text}'"


# the integer settings of the IP's ports, which take >= 1, and the tensor each sets, whose own key
# (quantization.layers.<layer>.output.integer) takes a range below that too
_PORT_TENSORS = {("quantization", "input", "integer"): "input", ("quantization", "output", "integer"): "head"}


def _port_hint(loc: list, value, raw) -> str:
    """``; quantization.output.integer sets ...: for head.output write ...``: a port's integer setting given a
    value below its range that the tensor's own key takes, with that key; '' otherwise."""
    layer = _PORT_TENSORS.get(tuple(loc))
    own = TensorSpec.model_fields["integer"]
    if layer is None or isinstance(value, bool) or not isinstance(value, int) or not _fits(own, value):
        return ""
    bounds = next(_range_of(m) for a in own.annotation.__args__ for m in getattr(a, "__metadata__", ()))
    delta = layer == "head" and _raw_at(raw, ["model", "predict_delta"]) is not False
    sets = ("the types of head.output (the forecast change) and delta.output (the forecast: the last value plus "
            "that change)" if delta else "the type of head.output (the forecast)" if layer == "head"
            else "the type of input.output (the scaled window)")
    also = ", and quantization.layers.delta.output.integer for delta.output" if delta else ""
    return (f"; {'.'.join(loc)} sets {sets}; each tensor's own key takes an integer {bounds}: for {layer}.output "
            f"write quantization: {{layers: {{{layer}: {{output: {{integer: {value}}}}}}}}} "
            f"(quantization.layers.{layer}.output.integer) in its place{also}")


def _pattern_detail(loc: list, field, value: str, pattern: str) -> str:
    """A text that does not match its key's pattern: the pattern in words (``json_schema_extra``), and the value with
    each run of other characters made one _ where that matches (my-lib: my_lib), else the key's example (every key
    with a pattern has both: tests/test_config_tour10.py)."""
    extra = field.json_schema_extra
    mended = re.sub(r"[^A-Za-z0-9_]+", "_", value)
    fix = mended if mended != value and re.fullmatch(pattern, mended) else extra["example"]
    return f"allowed: {extra['words']}; e.g. {_flow_keys({loc[-1]: fix})}"


def _mapping_detail(loc: list, field, value) -> Optional[str]:
    """A mapping keyed by name (hls.storage, quantization.layers) given one value or a list: what it holds, one entry
    of it, and the key that sets one value for every name (hls.default_storage), which a single value most likely
    meant; None for a field without that description."""
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    if "each" not in extra:
        return None
    got = "a list" if isinstance(value, list) else "null" if value is None else "a single value"
    names = extra["names"]
    detail = f"{extra['each']}, a mapping of {names} names such as {_flow_yaml(extra['example'])}, not {got}"
    every = extra["every"]
    if not every or isinstance(value, list) or value is None:
        return detail
    model, section = _walk(loc[:-1])[0] or FlowConfig, ".".join(map(str, loc[:-1]))
    fits = [k for k in every if _fits(model.model_fields[k], value)]
    if fits:
        key = fits[0]
        return f"{detail}; for every {names}, write {_flow_keys({key: value})} under {section} ({section}.{key})"
    keys = " or ".join(f"{section}.{k}" for k in every)
    takes = _takes(model.model_fields[every[0]]) if len(every) == 1 else ""
    return f"{detail}; one value for every {names} is {keys}{', which takes ' + takes if takes else ''}"


# pydantic's error types said as what the key takes: (what is wrong, what is allowed; its range added where the
# schema has one)
_TYPE_WORDS = {"int_type": ("not a valid integer", "an integer"), "int_parsing": ("not a valid integer", "an integer"),
               "int_from_float": ("not a whole number", "an integer"), "float_type": ("not a number", "a number"),
               "float_parsing": ("not a number", "a number"), "bool_type": ("not true or false", "true or false"),
               "bool_parsing": ("not true or false", "true or false")}


def _type_detail(err: dict, field, value) -> str:
    """A value of the wrong type or length, said without pydantic's wording: what the key takes instead."""
    kind = err["type"]
    if kind in _TYPE_WORDS:
        wrong, allowed = _TYPE_WORDS[kind]
        bounds = _range_of(field) if field is not None else ""
        return f"{wrong}; allowed: {allowed}{' ' + bounds if bounds else ''}"
    if kind == "string_type":
        got = ("a number" if isinstance(value, (int, float)) else "a list" if isinstance(value, list)
               else "a mapping" if isinstance(value, dict) else "null" if value is None else type(value).__name__)
        return f"text, not {got}" + (f"; quote it ('{value}') to use it as text" if got == "a number" else "")
    if kind in ("too_short", "string_too_short"):
        extra = field.json_schema_extra if field is not None and isinstance(field.json_schema_extra, dict) else {}
        null = f"; leave the key out (or write null) for {extra['null']}" if extra.get("null") else ""
        least = (err.get("ctx") or {}).get("min_length", 1)
        unit = ("item" if kind == "too_short" else "character") + ("s" if least > 1 else "")
        return f"empty: give at least {least} {unit}{null}"
    return err["msg"]


class _Given(dict):
    """Keys given beside a missing one, for its description's ``{key}`` fields; a key not given reads as its path."""

    def __init__(self, values: dict, section: str):
        super().__init__(values)
        self.section = section

    def __missing__(self, key):
        return f"{self.section}.{key}"


def _missing_detail(loc: list, field, raw) -> str:
    """A required key left out: the keys given beside it, what it is (its description) and its range."""
    section = ".".join(map(shown_key, loc[:-1]))
    given = _raw_at(raw, loc[:-1]) if raw is not None else None
    given = {k: v for k, v in given.items() if isinstance(k, str)} if isinstance(given, dict) else {}
    beside = f" with {', '.join(f'{section}.{k} = {_flow_yaml(v)}' for k, v in given.items())}" if given else ""
    if field is not None and field.description:
        values = _Given({k: _flow_yaml(v) for k, v in given.items()}, section)
        return f"required{beside}: {field.description.format_map(values)}"
    return f"required{beside}" + (f"; allowed: {_range_of(field)}" if field is not None and _range_of(field) else "")


# words other tools take for "every column"; here that is a column key left out (null)
EVERY = ("all", "*", "every", "any", "auto")
# LTSF-Linear's and Informer's --features: M (every column in, every column out), S (the target alone), MS (every
# column in, the target out); tsflow forecasts data.target from data.features
LTSF_FEATURES = ("M", "S", "MS")


def _name_detail(kind: str, field, value, loc: list, raw) -> Optional[str]:
    """A key that names a column (``json_schema_extra`` ``column``) given a position, a boolean or a word for every
    column: a column is named as the header row has it; what null means there, where it means something."""
    extra = field.json_schema_extra if field is not None and isinstance(field.json_schema_extra, dict) else {}
    if not extra.get("column"):
        return None
    key = next(p for p in reversed(loc) if isinstance(p, str))
    null = extra.get("null") if not isinstance(loc[-1], int) else None  # not for one item of a list
    or_null = f"; for {null} write {key}: null" if null else ""
    if kind == "string_type" and value is False and null:
        return (f"false is YAML's boolean (so are no and off, unquoted), not a column name{or_null} (quote the word, "
                f"'no', if a column has that name)")
    if kind == "string_type" and isinstance(value, (int, float)) and not isinstance(value, bool):
        path = _raw_at(raw, ["data", "path"])
        header = f"the first line of {path}" if isinstance(path, str) else "the file's first line"
        written = value if isinstance(value, int) else f"{value:g}"
        return (f"a column is named as the header row ({header}) has it, not by its position: write its name"
                f"{or_null}; YAML reads an unquoted {written} as a number: if the header does name a column {written}, "
                f"write '{written}' (quoted)")
    target = _raw_at(raw, ["data", "target"])
    if kind == "list_type" and isinstance(value, str) and value.strip().upper() in LTSF_FEATURES and null:
        only = f"[{target}]" if isinstance(target, str) else "[the target column]"
        return (f"{value!r} reads as the --features flag of LTSF-Linear / Informer (M, S or MS), which is no keyword "
                f"here: data.features names the input columns and data.target is the one column forecast; for M or "
                f"MS (every column in) leave data.features out (or write {key}: null: {null}), for S (the target "
                f"alone) write {key}: {only}; a list names the columns as the header row has them, [{value}] only "
                f"for a column named {value}")
    if kind == "list_type" and isinstance(value, str) and value.strip().lower() in EVERY and null:
        return (f"{value!r} is no keyword here: for {null} leave data.{key} out (or write {key}: null); a list names "
                f"the columns as the header row has them, such as [{value}] for a column named {value}")
    return None


def _section_detail(path: str, value, model: type[BaseModel]) -> str:
    """What a section given a scalar, a list or nothing is: a mapping of its keys (and, when empty, whether its keys
    were left unindented below it)."""
    keys = ", ".join(sorted(model.model_fields))
    if value is None:
        return (f"the section is empty; its keys ({keys}) go indented below it (keys written at the start of the "
                f"line below '{path}:' are read as top-level keys)")
    glued = isinstance(value, str) and re.fullmatch(r"[A-Za-z_][\w.]*:\S.*", value)
    hint = (f"; {value!r} is a key written without a space after its colon, which YAML reads as text: write "
            f"'{value.replace(':', ': ', 1)}'") if glued else ""
    return f"a section, not a value: its keys go indented below it ({keys}){hint}"


def _model_in(annotation) -> Optional[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found:
            return found
    return None


# validation-context keys: the folder a relative data.path is read against (default: the current directory), and
# the text and line of each number as the YAML file writes it (path of keys -> (text, line); load_config)
CONFIG_DIR = "config_dir"
WRITTEN = "written"


def _check_ignored_keys(cfg: FlowConfig) -> None:
    """Refuse a data key whose value the other keys make the flow ignore. A key a dumped configuration holds at its
    default (``model_dump`` writes every key, and tsflow reads its own dumps back) is not one the user wrote."""
    q = cfg.quantization
    # a configuration tsflow dumped (every key written) and set to float, as the search's float models and the
    # benchmarks' float variants are, keeps the quantization it was dumped with: not the user's
    dumped = q.model_fields_set >= set(QuantConfig.model_fields)
    if not q.enabled and not dumped:
        ignored = [k for k in QuantConfig.model_fields if k != "enabled" and k in q.model_fields_set]
        if ignored:
            keys = ", ".join(f"quantization.{k}" for k in ignored)
            raise ConfigError(f"invalid configuration: quantization.enabled = False, but {keys} "
                              f"{'is' if len(ignored) == 1 else 'are'} set: with quantization off the model is trained "
                              f"and built in float and {'that setting is' if len(ignored) == 1 else 'those settings are'}"
                              f" ignored; remove quantization.enabled: false to quantize, or remove {keys} to build "
                              f"the float model")
    tr = cfg.training
    if not q.enabled and not tr.model_fields_set >= set(TrainingConfig.model_fields):  # not a dump
        idle = [k for k in ("qat_epochs", "qat_learning_rate", "qat_patience") if k in tr.model_fields_set
                and not (k == "qat_epochs" and tr.qat_epochs == 0)]  # qat_epochs: 0 says there is no QAT: true
        if idle:
            shown = ", ".join(f"training.{k}" for k in idle)
            raise ConfigError(f"invalid configuration: quantization.enabled = False, but {shown} "
                              f"{'is' if len(idle) == 1 else 'are'} set: without quantization there is no "
                              f"quantization-aware phase, so {'it does' if len(idle) == 1 else 'they do'} nothing; "
                              f"remove {shown}, or remove quantization.enabled: false to quantize")
    if not tr.model_fields_set >= set(TrainingConfig.model_fields):  # not a dump
        for phase, keys in (("qat", ("qat_learning_rate", "qat_patience")), ("float", ("learning_rate", "patience"))):
            idle = [k for k in keys if k in tr.model_fields_set]
            if getattr(tr, f"{phase}_epochs") == 0 and idle:
                shown = ", ".join(f"training.{k}" for k in idle)
                raise ConfigError(f"invalid configuration: training.{phase}_epochs = 0, but {shown} "
                                  f"{'is' if len(idle) == 1 else 'are'} set: without a {phase} phase "
                                  f"{'it does' if len(idle) == 1 else 'they do'} nothing; remove {shown}, or give "
                                  f"training.{phase}_epochs a number of epochs")
    ex = cfg.export
    if ("local_memory_kb" in ex.model_fields_set and not ex.model_fields_set >= set(ExportConfig.model_fields)
            and cfg.hls.interface != "s_axilite"):
        raise ConfigError(f"invalid configuration: export.local_memory_kb = {ex.local_memory_kb} is set, but it sizes "
                          f"the MicroBlaze of 'tsflow export --block-design', which needs hls.interface: s_axilite "
                          f"(this configuration: {cfg.hls.interface!r}); set hls.interface: s_axilite for the block "
                          f"design, or remove export.local_memory_kb")
    data, written = cfg.data, cfg.data.model_fields_set
    defaults = DataConfig.model_fields
    if data.source == "builtin" and data.path is not None:
        given = data._path_given if data._path_given is not None else data.path
        raise ConfigError(f"invalid configuration: data.path = {given!r} is set, but data.source is 'builtin'"
                          f"{' (the default)' if 'source' not in written else ''}, so the file would not be read "
                          f"(the built-in {data.dataset!r} would be); set data.source: csv to read it, or remove "
                          f"data.path to use the built-in series")
    if data.source == "csv" and "dataset" in written and data.dataset != defaults["dataset"].default:
        raise ConfigError(f"invalid configuration: data.dataset = {data.dataset!r} is set, but data.source is 'csv', "
                          f"so the built-in series would not be used (data.path = "
                          f"{data._path_given or data.path!r} would); remove data.dataset to read the CSV, or set "
                          f"data.source: builtin (and remove data.path) to use {data.dataset!r}")
    if data.date_column is None and "gaps" in written and data.gaps != defaults["gaps"].default:
        raise ConfigError(f"invalid configuration: data.gaps = {data.gaps!r} is set, but data.date_column is null: "
                          f"without time stamps there are no gaps to find, so it would do nothing; name the column "
                          f"of time stamps in data.date_column, or remove data.gaps")


def parse_config(raw: dict, source: str = "", config_dir: str | Path | None = None,
                 written: dict | None = None) -> FlowConfig:
    """Validate a mapping; raises ConfigError with every problem listed.

    A relative ``data.path`` is made absolute against ``config_dir`` (``load_config`` passes the
    configuration file's folder) or, when it is None, against the current directory. ``written`` (from
    ``load_yaml``) holds the numbers, dates and booleans as the file writes them, for messages.
    """
    if not isinstance(raw, dict):
        raise ConfigError(f"invalid configuration{' ' + source if source else ''}: the top level must be a mapping, "
                          f"got {type(raw).__name__}")
    try:
        cfg = FlowConfig.model_validate(raw, context={CONFIG_DIR: config_dir, WRITTEN: written or {}})
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, source, raw, written or {})) from None
    try:
        _check_ignored_keys(cfg)
        resolve_precisions(cfg)  # raises ConfigError for unknown layer names or bad overrides
        check_names(cfg)  # raises ConfigError for unknown buffer, table or layer names
    except ConfigError as exc:  # name the file, as the schema errors above do
        message = str(exc)
        if source and message.startswith("invalid configuration: "):
            message = f"invalid configuration {source}: " + message.removeprefix("invalid configuration: ")
        raise ConfigError(message) from None
    return cfg


def _yaml_problem(exc: yaml.YAMLError, source: str = "") -> str:
    """One line: where in the file (line and column as an editor counts them) and what is wrong; a key written
    without a space after its colon (``window:8``, read as text, which then runs into the next line) is named."""
    def at(mark) -> str:
        return f"line {mark.line + 1}, column {mark.column + 1}"

    mark, problem = getattr(exc, "problem_mark", None), getattr(exc, "problem", None)
    if mark is None or not problem:
        return " ".join(str(exc).split())
    text = f"{at(mark)}: {problem}"
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context:
        started = f" that starts at {at(context_mark)}" if context_mark is not None and (
            context_mark.line, context_mark.column) != (mark.line, mark.column) else ""
        text += f" ({context}{started})"
    glued = [(i + 1, line.strip()) for i, line in enumerate(source.splitlines()[:mark.line + 1])
             if re.match(r"\s*[A-Za-z_][\w.]*:[^\s:/]", line) and not line.lstrip().startswith("#")]
    if glued and problem.startswith(("mapping values are not allowed", "could not find expected ':'")):
        line, written = glued[-1]
        text += (f"; line {line} writes {written!r} without a space after the colon, which YAML reads as text, not "
                 f"as a key and its value: write '{written.replace(':', ': ', 1)}'")
    return text


class DuplicateKey(yaml.YAMLError):
    """A key given twice in one mapping of a YAML file (``str()``: the key's dotted path and both lines)."""


class AmbiguousNumber(DuplicateKey):
    """A number YAML 1.1 reads otherwise than it reads to a person: ``010`` is octal 8, ``1:30`` is 90 (base 60)."""


def _shown_node(node) -> str:
    if isinstance(node, yaml.ScalarNode):
        text = node.value if len(node.value) <= 40 else node.value[:37] + "..."
        return repr(text) if node.style in ("'", '"') else text or "''"
    return "{...}" if isinstance(node, yaml.MappingNode) else "[...]"


# the tags of the unquoted scalars YAML reads as other than text: their text is kept for messages (1.10 reads as 1.1,
# 2024-01-01 as datetime.date(2024, 1, 1), yes as True)
_READ_AS_OTHER = tuple(f"tag:yaml.org,2002:{t}" for t in ("float", "int", "bool", "timestamp"))


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping (``window: 8`` then ``window: 16``, or two
    ``training:`` sections), which the YAML loader would otherwise settle silently by keeping the last.

    Read every YAML file a user writes with it (``load_yaml``); keys merged in with ``<<`` may be overridden, as
    YAML intends."""

    def __init__(self, stream):
        super().__init__(stream)
        self.written: dict = {}  # path of keys -> (text, line) of each unquoted number, date or boolean

    def construct_document(self, node):
        self._check_unique(node, (), set())
        return super().construct_document(node)

    def construct_yaml_int(self, node):
        text = str(node.value).replace("_", "")
        octal = re.fullmatch(r"[-+]?0[0-7]+", text)
        if octal or re.fullmatch(r"[-+]?[1-9][0-9]*(:[0-5]?[0-9])+", text):
            value = super().construct_yaml_int(node)
            what = "the octal number" if octal else "the base-60 number"
            fix = (f"write {text.lstrip('+-').lstrip('0') or 0}, without the leading zero" if octal
                   else "write the number without the colon")
            raise AmbiguousNumber(f"line {node.start_mark.line + 1}: {node.value} is read by YAML as {what} {value}, "
                                  f"not as it reads; {fix}, or quote it ('{node.value}') for text")
        return super().construct_yaml_int(node)

    def _check_unique(self, node, path: tuple, seen_nodes: set) -> None:
        if id(node) in seen_nodes:  # an alias seen before (aliases may even be recursive)
            return
        seen_nodes.add(id(node))
        if isinstance(node, yaml.ScalarNode) and node.style is None and node.tag in _READ_AS_OTHER:
            self.written[path] = (node.value, node.start_mark.line + 1)
        if isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._check_unique(item, path + (i,), seen_nodes)
        if not isinstance(node, yaml.MappingNode):
            return
        first: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                earlier = first.setdefault(key, (key_node, value_node))
            except TypeError:  # an unhashable key: the constructor says what is wrong with it
                continue
            if earlier[0] is not key_node:
                where = ".".join(map(shown_key, path + (key,)))
                a, b = earlier[0].start_mark.line + 1, key_node.start_mark.line + 1
                sections = isinstance(earlier[1], yaml.MappingNode) and isinstance(value_node, yaml.MappingNode)
                fix = "merge the two sections into one" if sections else "keep one of them"
                raise DuplicateKey(f"{where} is given twice, on line {a} ({shown_key(key)}: {_shown_node(earlier[1])}) "
                                   f"and on line {b} ({shown_key(key)}: {_shown_node(value_node)}); YAML would keep "
                                   f"only the last and drop the first without a word: {fix}")
            self._check_unique(value_node, path + (key,), seen_nodes)


UniqueKeyLoader.add_constructor("tag:yaml.org,2002:int", UniqueKeyLoader.construct_yaml_int)
# A number in scientific notation without a dot (1e-3, 6e-1) or without a sign in its exponent (1.0e3): YAML 1.1
# reads it as text, YAML 1.2 and every person as a number. Read as a number wherever it is written, so that
# split: {train: 6e-1} means 0.6 as learning_rate: 1e-3 means 0.001 (pydantic made number fields take the text)
UniqueKeyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)[eE][-+]?[0-9]+$"),
    list("-+0123456789."))


def load_yaml(text: str, written: dict | None = None):
    """The data of a YAML document a user wrote: ``yaml.safe_load``, but a key given twice in one mapping raises
    ``DuplicateKey`` (a ``yaml.YAMLError``) naming the key and both lines. ``written``, if given, is filled with
    the text and line of each unquoted number, date and boolean (path of keys -> (text, line)): YAML drops what the
    value does not keep (1.10 reads as 1.1, yes as True)."""
    loader = UniqueKeyLoader(text)
    try:
        data = loader.get_single_data()
    finally:
        loader.dispose()
    if written is not None:
        written.update(loader.written)
    return data


EXAMPLE_CONFIG = "configs/default.yaml"  # in the repository: every section, commented

# a URL (scheme://...), also as Path() leaves one (https:/host/...: it collapses '//')
_URL = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]+://|(?:https?|ftps?|sftp|s3|gs|hf|file):/(?!/))")


def url_given(path: str | Path) -> str | None:
    """The URL a path names, '//' restored, or None: tsflow reads local files only, and a URL not found as a file
    would otherwise be said as a local path not found (with its '//' collapsed)."""
    text = str(path)
    if not _URL.match(text):
        return None
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]+):/(?!/)", r"\1://", text)


def url_refusal(what: str, url: str) -> str:
    """What to say of a URL given where tsflow reads a local file (``what``: the flag or key)."""
    return (f"{what} {url!r} is a URL; tsflow reads local files only: download it first "
            f"(curl -LO {shlex.quote(url)}) and give the downloaded file's path")


def _other_normalisation(path: Path) -> str:
    """A name typed with composed letters (NFC: é one code point) where the file's is decomposed (NFD: e and
    a combining accent), or the reverse, prints alike but does not open: said when the other form exists."""
    import unicodedata

    for form, typed in (("NFC", "NFD"), ("NFD", "NFC")):
        other = Path(unicodedata.normalize(form, str(path)))
        if str(other) != str(path) and other.exists():
            return (f" (a file {other} exists whose name differs only in Unicode normalisation: typed in {typed}, "
                    f"{form} on disk; they print alike: give the name as it is on disk, e.g. completed with Tab)")
    return ""


def load_config(path: str | Path) -> FlowConfig:
    path = Path(path)
    try:
        if path.is_dir():
            raise ConfigError(f"configuration {path} is a folder; give the YAML file")
        if not path.exists() and url_given(path):
            raise ConfigError(url_refusal("configuration file", url_given(path)))
        if not path.exists():  # a pipe (<(...)) or a device is read as the file it streams
            raise ConfigError(f"configuration file not found: {path}{_other_normalisation(path)}")
    except OSError as exc:  # a name too long for the file system, a folder that cannot be searched
        raise ConfigError(f"configuration {str(path)[:200]!r}: cannot look it up ({exc.strerror or exc})") from None
    try:
        text, written = path.read_text(encoding="utf-8"), {}
        raw = load_yaml(text, written)
    except DuplicateKey as exc:
        raise ConfigError(f"invalid configuration {path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"configuration {path} is not valid YAML: {_yaml_problem(exc, text)}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"configuration {path} is not UTF-8 text (byte {exc.start}: "
                          f"{exc.object[exc.start:exc.start + 1]!r}); save the YAML file as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"cannot read configuration {path}: {exc.strerror or exc}") from None
    if raw is None:  # an empty file, only comments, or a bare '---' or 'null'
        what = "is empty" if not text.strip() else "sets nothing (no key, only comments or a null document)"
        raise ConfigError(f"configuration {path} {what}; it would build the whole default configuration without a "
                          f"word. Write the settings to use (an example with every section: {EXAMPLE_CONFIG} in the "
                          f"tsflow repository), or write {{}} to build the defaults on purpose")
    return parse_config(raw, str(path), config_dir=path.absolute().parent.resolve(), written=written)


def dump_config(cfg: FlowConfig) -> str:
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)
