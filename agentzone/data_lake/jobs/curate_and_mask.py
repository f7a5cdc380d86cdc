"""Glue Python shell job: move one data-lake namespace from the raw zone to the curated and masked zones.

* A Python shell job (standard library and boto3 only, one file) rather than
  Spark: namespaces are small Firehose batches, so it is cheap, and the whole
  job runs in-process against moto in the tests.
* Curated is the conformed copy (declared columns only, cast to the declared
  types, bad records rejected); masked is the curated copy with the PII columns
  hashed (HMAC, so joins still work), redacted or partially hidden: safe to
  copy to non-production accounts.
* Idempotent and incremental: a raw object is done once its masked output
  exists, and that output is written last (after the curated output and the
  partitions), so a failed run is simply run again.
* Only counts and object keys are ever printed or written to the lineage
  manifest, never a record value or the HMAC key.

Arguments (Glue adds its own, which are ignored)::

    --plan <JSON: database, raw/curated/masked buckets, datasets>
    --hash_key_secret <Secrets Manager secret ARN, read only if a column is hashed>
    --JOB_RUN_ID <set by Glue; names the lineage manifest>
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import math
import re
import sys
from datetime import UTC, date, datetime

import boto3
from botocore.exceptions import ClientError

STRATEGIES = ("hash", "redact", "partial")
SSE = {"ServerSideEncryption": "aws:kms"}  # no key id: the bucket's default CMK
_GZIP_MAGIC = b"\x1f\x8b"
_WHITESPACE = re.compile(r"[ \t\r\n]*")
_INT_RANGES = {"int": 2**31, "bigint": 2**63}
_FRACTION = re.compile(r"(?<=:\d\d)\.(\d+)")  # fractional seconds


# --- arguments ----------------------------------------------------------------------------------


def parse_args(argv) -> dict:
    """``--name value`` (or ``--name=value``) pairs; a flag without a value maps to ``""``.

    Glue surrounds the job's own arguments with its own (``--scriptLocation``,
    ``--job-bookmark-option``, ``--JOB_RUN_ID``...) and bare tokens, so
    nothing unknown is an error.
    """
    args, tokens, i = {}, list(argv), 0
    while i < len(tokens):
        token, i = tokens[i], i + 1
        if not token.startswith("--"):
            continue
        name, eq, value = token[2:].partition("=")
        if not eq and i < len(tokens) and not tokens[i].startswith("--"):
            value, i = tokens[i], i + 1
        args[name] = value
    return args


# --- curation -----------------------------------------------------------------------------------


def _number_text(value: str) -> str:
    """Python's int()/float() accept ``1_000``; a data file meaning 1000 would not write that."""
    if "_" in value:
        raise ValueError("not a number")
    return value


def _to_float(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError("not a number")
    try:
        result = float(_number_text(value) if isinstance(value, str) else value)
    except OverflowError:
        raise ValueError("number out of range") from None
    if not math.isfinite(result):  # NaN/Infinity are not JSON and break Athena's reader
        raise ValueError("not a finite number")
    return result


def _to_int(value, type_: str) -> int:
    if isinstance(value, bool):
        raise ValueError("not an integer")
    if isinstance(value, str):
        try:
            value = int(_number_text(value))
        except ValueError:
            value = _to_float(value)  # "12.0" is integral, "12.5" is not
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("not an integer")
        value = int(value)
    if not isinstance(value, int):
        raise ValueError("not an integer")
    if not -_INT_RANGES[type_] <= value < _INT_RANGES[type_]:
        raise ValueError(f"out of {type_} range")
    return value


def _to_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError("not a boolean")


def _to_str(value) -> str:
    if isinstance(value, str):
        value.encode("utf-8")  # a lone surrogate ("\ud800" in JSON) cannot be written out: UnicodeError
        return value
    if isinstance(value, (bool, dict, list)):  # JSON text, so "true" and nested objects read back
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if isinstance(value, (int, float)):
        return str(value)
    raise ValueError("not a string")


def _to_timestamp(value) -> str:
    """Kept as written (Athena reads ISO text).

    Glue's Python 3.9 ``fromisoformat`` knows neither ``Z`` nor fractions
    other than 3 or 6 digits (nanoseconds are common), so both are normalised
    for the check only.
    """
    if not isinstance(value, str):
        raise ValueError("not a timestamp")
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    datetime.fromisoformat(_FRACTION.sub(lambda m: "." + (m.group(1) + "00000")[:6], text, count=1))
    return value


def _to_date(value) -> str:
    """A date column takes ``YYYY-MM-DD`` only: a timestamp there would not read as a DATE."""
    if not isinstance(value, str):
        raise ValueError("not a date")
    date.fromisoformat(value)
    return value


_CASTS = {
    "string": _to_str,
    "int": lambda v: _to_int(v, "int"),
    "bigint": lambda v: _to_int(v, "bigint"),
    "double": _to_float,
    "boolean": _to_bool,
    "timestamp": _to_timestamp,
    "date": _to_date,
}


def cast_value(value, type_: str):
    """The value as the declared column type; None stays None.

    Raises ValueError, whose message never carries the value (it may be PII).
    """
    if type_ not in _CASTS:
        raise ValueError(f"unknown column type {type_!r}")
    if value is None:
        return None
    try:
        return _CASTS[type_](value)
    except (TypeError, ValueError):
        raise ValueError(f"not a valid {type_}") from None


def curate_record(record, columns) -> dict | None:
    """The declared columns, in declared order and cast; None when the record is rejected."""
    if not isinstance(record, dict):
        return None
    curated = {}
    for column in columns:
        value = record.get(column["name"])
        if column.get("required") and (value is None or value == ""):
            return None
        try:
            curated[column["name"]] = cast_value(value, column["type"])
        except ValueError:
            return None
    return curated


# --- masking ------------------------------------------------------------------------------------


def _text(value) -> str:
    return value if isinstance(value, str) else _to_str(value)


def _hash(value, key) -> str:
    if not key:
        raise ValueError("a hashed column needs the HMAC key")
    return hmac.new(key, _text(value).encode("utf-8"), hashlib.sha256).hexdigest()


def _partial(value, _key) -> str:
    text = _text(value)
    return "*" * len(text) if len(text) <= 4 else "*" * (len(text) - 4) + text[-4:]


_MASKS = {"hash": _hash, "redact": lambda _value, _key: None, "partial": _partial}


def mask_record(record: dict, columns, hash_key: bytes | None) -> dict:
    """A copy of a curated record with each PII column masked by its strategy (null stays null)."""
    masked = dict(record)
    for column in columns:
        strategy, value = column.get("pii"), masked.get(column["name"])
        if strategy and value is not None:
            masked[column["name"]] = _MASKS[strategy](value, hash_key)
    return masked


# --- reading ------------------------------------------------------------------------------------


def parse_partition(rest: str, keys) -> tuple | None:
    """Values of the hive ``key=value/`` folders of a key (relative to the prefix), in ``keys`` order.

    None when a key is missing: the object is still curated, but there is no
    partition to register for it.
    """
    found = {}
    for segment in rest.split("/")[:-1]:
        name, eq, value = segment.partition("=")
        if eq and name not in found:
            found[name] = value
    if any(key not in found for key in keys):
        return None
    return tuple(found[key] for key in keys)


def _decode_line(decoder: json.JSONDecoder, line: str):
    """Every JSON value of a line: Firehose concatenates records without a separator."""
    index = _skip_whitespace(line, 0)
    while index < len(line):
        try:
            value, index = decoder.raw_decode(line, index)
        except (ValueError, RecursionError):
            yield None  # no way to resynchronise within the line
            return
        yield value
        index = _skip_whitespace(line, index)


def _skip_whitespace(line: str, index: int) -> int:
    """Where the next JSON value may start: past the whitespace at ``index`` (the pattern matches empty too)."""
    match = _WHITESPACE.match(line, index)
    return match.end() if match else index


def read_records(body: bytes, key: str):
    """Each JSON value in an object, None for what does not parse (a bad line never fails the job).

    Firehose may gzip without a ``.gz`` name, hence the magic-bytes check.
    Lines are split and decoded one by one so one bad byte loses one line.
    """
    if key.endswith(".gz") or body[:2] == _GZIP_MAGIC:
        body = gzip.decompress(body)
    decoder = json.JSONDecoder()
    for raw in body.splitlines():
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield None
            continue
        yield from _decode_line(decoder, line)


# --- the job ------------------------------------------------------------------------------------


def _check_plan(plan: dict) -> None:
    """Fail before writing anything when the plan is malformed."""
    for dataset in plan["datasets"]:
        if not dataset["prefix"].endswith("/"):
            raise ValueError(f"dataset {dataset['name']}: prefix must end with '/'")
        for column in dataset["columns"]:
            if column["type"] not in _CASTS:
                raise ValueError(f"dataset {dataset['name']}: unknown type {column['type']!r}")
            if column.get("pii") not in (None, *STRATEGIES):
                raise ValueError(f"dataset {dataset['name']}: unknown PII strategy {column['pii']!r}")


def _hidden(rest: str) -> bool:
    """Folders and files starting with ``_`` or ``.`` (``_SUCCESS``, ``_tmp/``) are not data, as in Hive."""
    return not rest or rest.endswith("/") or any(part[:1] in ("_", ".") for part in rest.split("/"))


def _lines(records) -> bytes:
    return "".join(json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n" for record in records).encode(
        "utf-8"
    )


class _Job:
    """One run: the clients, the plan and what is read once per run (HMAC key, table descriptors)."""

    def __init__(self, plan: dict, s3, glue, hash_key: bytes | None):
        self.plan, self.s3, self.glue, self.hash_key = plan, s3, glue, hash_key
        self._descriptors: dict[str, dict] = {}

    def dataset(self, dataset: dict) -> tuple[dict, dict]:
        """Process every new raw object of a dataset; return its run summary and lineage entry."""
        counts = dict.fromkeys(("objects", "accepted", "rejected", "skipped", "unpartitioned"), 0)
        partitions: set[tuple] = set()
        objects = []
        for key in self._raw_keys(dataset["prefix"]):
            entry = self._object(dataset, key, counts, partitions)
            if entry:
                objects.append(entry)
        summary = dict(counts, partitions=len(partitions))
        database, columns = self.plan["database"], dataset["columns"]
        lineage = {
            "name": dataset["name"],
            "source_table": f"{database}.{dataset['raw_table']}",
            "targets": [f"{database}.{dataset['curated_table']}", f"{database}.{dataset['masked_table']}"],
            "masked_columns": {c["name"]: c["pii"] for c in columns if c.get("pii")},
            "objects": objects,
            **{name: counts[name] for name in ("accepted", "rejected", "skipped", "unpartitioned")},
        }
        return summary, lineage

    def _raw_keys(self, prefix: str):
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.plan["raw_bucket"], Prefix=prefix):
            for item in page.get("Contents", []):
                if not _hidden(item["Key"][len(prefix) :]):
                    yield item["Key"]

    def _object(self, dataset: dict, key: str, counts: dict, partitions: set) -> dict | None:
        """Curate, register the partition, then mask (the masked output marks the object done)."""
        plan, prefix, columns = self.plan, dataset["prefix"], dataset["columns"]
        rest = key[len(prefix) :]
        out_key = prefix + (rest[:-3] if rest.endswith(".gz") else rest)
        if self._exists(plan["masked_bucket"], out_key):
            counts["skipped"] += 1
            return None
        body = self.s3.get_object(Bucket=plan["raw_bucket"], Key=key)["Body"].read()
        curated = [curate_record(value, columns) for value in read_records(body, key)]
        accepted = [record for record in curated if record is not None]
        rejected = len(curated) - len(accepted)
        self._put(plan["curated_bucket"], out_key, accepted)
        self._partition(dataset, rest, counts, partitions)
        self._put(plan["masked_bucket"], out_key, [mask_record(r, columns, self.hash_key) for r in accepted])
        counts["objects"] += 1
        counts["accepted"] += len(accepted)
        counts["rejected"] += rejected
        return {
            "source": f"s3://{plan['raw_bucket']}/{key}",
            "curated": f"s3://{plan['curated_bucket']}/{out_key}",
            "masked": f"s3://{plan['masked_bucket']}/{out_key}",
            "accepted": len(accepted),
            "rejected": rejected,
        }

    def _partition(self, dataset: dict, rest: str, counts: dict, partitions: set) -> None:
        keys = dataset.get("partition_keys") or []
        if not keys:
            return
        values = parse_partition(rest, keys)
        if values is None:
            counts["unpartitioned"] += 1
        elif values not in partitions:
            # Glue's pythonshell runs Python 3.9, whose zip() has no strict=; values has one entry per key.
            folder = dataset["prefix"] + "".join(f"{k}={v}/" for k, v in zip(keys, values))  # noqa: B905
            for zone in ("curated", "masked"):
                location = f"s3://{self.plan[zone + '_bucket']}/{folder}"
                self._register(dataset[zone + "_table"], location, values)
            partitions.add(values)

    def _register(self, table: str, location: str, values: tuple) -> None:
        """Add a partition with the table's storage descriptor; one registered earlier is fine."""
        database = self.plan["database"]
        if table not in self._descriptors:
            table_info = self.glue.get_table(DatabaseName=database, Name=table)["Table"]
            self._descriptors[table] = table_info["StorageDescriptor"]
        descriptor = {**self._descriptors[table], "Location": location}
        response = self.glue.batch_create_partition(
            DatabaseName=database,
            TableName=table,
            PartitionInputList=[{"Values": list(values), "StorageDescriptor": descriptor}],
        )
        errors = [e["ErrorDetail"] for e in response.get("Errors", [])]
        errors = [e for e in errors if e.get("ErrorCode") != "AlreadyExistsException"]
        if errors:
            details = "; ".join(f"{e.get('ErrorCode')}: {e.get('ErrorMessage', '')}" for e in errors)
            raise RuntimeError(f"cannot register a partition of {database}.{table}: {details}")

    def _exists(self, bucket: str, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def _put(self, bucket: str, key: str, records) -> None:
        body = _lines(records)
        self.s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/x-ndjson", **SSE)


def _hash_key(plan: dict, args: dict, secrets) -> bytes | None:
    """The HMAC key, read once and only when some column is hashed."""
    if not any(c.get("pii") == "hash" for d in plan["datasets"] for c in d["columns"]):
        return None
    if not args.get("hash_key_secret"):
        raise ValueError("--hash_key_secret is required when a column is hashed")
    secrets = secrets or boto3.client("secretsmanager", region_name=plan.get("region"))
    return secrets.get_secret_value(SecretId=args["hash_key_secret"])["SecretString"].encode("utf-8")


def main(argv=None, *, s3=None, glue=None, secrets=None) -> dict:
    """Run the plan; return (and print as one JSON line) the run summary."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not args.get("plan"):
        raise ValueError("--plan is required")
    plan = json.loads(args["plan"])
    _check_plan(plan)
    run_id = args.get("JOB_RUN_ID") or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    # The plan names the lake's region so the job never depends on the runtime's defaults.
    region = plan.get("region")
    s3 = s3 or boto3.client("s3", region_name=region)
    job = _Job(plan, s3, glue or boto3.client("glue", region_name=region), _hash_key(plan, args, secrets))
    summaries, lineage = {}, []
    for dataset in plan["datasets"]:
        summaries[dataset["name"]], entry = job.dataset(dataset)
        lineage.append(entry)
    manifest = {
        "database": plan["database"],
        "run_id": run_id,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "datasets": lineage,
    }
    s3.put_object(
        Bucket=plan["curated_bucket"],
        Key=f"_lineage/{plan['database']}/{run_id}.json",
        Body=json.dumps(manifest, indent=2).encode("utf-8"),
        ContentType="application/json",
        **SSE,
    )
    summary = {"database": plan["database"], "run_id": run_id, "datasets": summaries}
    print(json.dumps(summary, sort_keys=True))
    return summary


if __name__ == "__main__":
    main()
