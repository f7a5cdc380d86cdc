"""The data-lake Glue job (raw -> curated -> masked), run in-process against moto."""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json

import boto3
import pytest

from agentzone.data_lake.jobs import curate_and_mask as job

REGION = "eu-west-1"
DATABASE = "claims_history"
PREFIX = "claims/history/claims/"
HMAC_KEY = "not-a-real-hmac-key"
EMAIL = "jane.doe@example.com"  # a PII value that must never reach the lineage manifest

COLUMNS = [
    {"name": "claim_id", "type": "string", "required": True, "pii": None},
    {"name": "customer_email", "type": "string", "required": False, "pii": "hash"},
    {"name": "customer_name", "type": "string", "required": False, "pii": "redact"},
    {"name": "card_number", "type": "string", "required": False, "pii": "partial"},
    {"name": "amount", "type": "double", "required": False, "pii": None},
    {"name": "detail", "type": "string", "required": False, "pii": None},
]


def make_plan(columns=COLUMNS) -> dict:
    return {
        "database": DATABASE,
        "raw_bucket": "raw-zone",
        "curated_bucket": "curated-zone",
        "masked_bucket": "masked-zone",
        "datasets": [
            {
                "name": "claims",
                "prefix": PREFIX,
                "raw_table": "raw_claims",
                "curated_table": "curated_claims",
                "masked_table": "masked_claims",
                "partition_keys": ["dt"],
                "columns": columns,
            }
        ],
    }


def lines(*records) -> bytes:
    return "".join(r if isinstance(r, str) else json.dumps(r) for r in records).encode()


PLAIN = lines(
    {
        "claim_id": "c1",
        "customer_email": EMAIL,
        "customer_name": "Jane Doe",
        "card_number": "4111111111111234",
        "amount": "12.5",
        "detail": {"b": 1, "a": [1, 2]},
        "extra": "dropped",
    },
    "\n",
    {"claim_id": "c2", "customer_email": None, "amount": 3},
    "\n",
    "\n",
    {"customer_email": "no-id@example.com"},
    "\n",  # missing required id
    {"claim_id": "c3", "amount": "lots"},
    "\n",  # bad double
    "[1, 2]\n",  # not an object
    '{"claim_id": "c4", \n',  # unparseable
)
CONCATENATED = lines(  # Firehose: no separator between records
    {"claim_id": "g1", "card_number": "99", "amount": 1}, {"claim_id": "g2", "customer_name": "X"}, "\n"
)


def expected_hash(value: str) -> str:
    return hmac.new(HMAC_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


@pytest.fixture
def lake(aws):
    """Buckets, HMAC secret, Glue tables and raw objects; returns the clients and the argv."""
    s3, glue = boto3.client("s3"), boto3.client("glue")
    secrets = boto3.client("secretsmanager")
    plan = make_plan()
    for bucket in ("raw_bucket", "curated_bucket", "masked_bucket"):
        s3.create_bucket(Bucket=plan[bucket], CreateBucketConfiguration={"LocationConstraint": REGION})
    arn = secrets.create_secret(Name="lake/hmac", SecretString=HMAC_KEY)["ARN"]
    glue.create_database(DatabaseInput={"Name": DATABASE})
    for table, bucket in (("curated_claims", "curated-zone"), ("masked_claims", "masked-zone")):
        glue.create_table(
            DatabaseName=DATABASE,
            TableInput={
                "Name": table,
                "TableType": "EXTERNAL_TABLE",
                "PartitionKeys": [{"Name": "dt", "Type": "string"}],
                "StorageDescriptor": {
                    "Columns": [{"Name": c["name"], "Type": c["type"]} for c in COLUMNS],
                    "Location": f"s3://{bucket}/{PREFIX}",
                    "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
                    "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                    "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"},
                },
            },
        )
    raw = plan["raw_bucket"]
    s3.put_object(Bucket=raw, Key=f"{PREFIX}dt=2024-05-01/part-0001.json", Body=PLAIN)
    s3.put_object(Bucket=raw, Key=f"{PREFIX}dt=2024-05-02/firehose-1.gz", Body=gzip.compress(CONCATENATED))
    s3.put_object(Bucket=raw, Key=f"{PREFIX}dt=2024-05-01/_SUCCESS", Body=b"")
    s3.put_object(Bucket=raw, Key=f"{PREFIX}_tmp/part-0002.json", Body=PLAIN)
    for folder in (PREFIX, f"{PREFIX}dt=2024-05-02/"):  # console-made "folders"
        s3.put_object(Bucket=raw, Key=folder, Body=b"")
    argv = [
        "--job-bookmark-option",
        "job-bookmark-disable",
        "--plan",
        json.dumps(plan),
        "--enable-metrics",
        "--hash_key_secret",
        arn,
        "--scriptLocation",
        "s3://assets/curate_and_mask.py",
    ]
    return {"s3": s3, "glue": glue, "plan": plan, "argv": argv}


def read_lines(s3, bucket: str, key: str) -> list[dict]:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    assert body == "" or body.endswith("\n")
    return [json.loads(line) for line in body.splitlines()]


def data_keys(s3, bucket: str) -> list[str]:
    objects = s3.list_objects_v2(Bucket=bucket, Prefix=PREFIX).get("Contents", [])
    return sorted(o["Key"] for o in objects)


PLAIN_KEY, GZ_KEY = f"{PREFIX}dt=2024-05-01/part-0001.json", f"{PREFIX}dt=2024-05-02/firehose-1"


def test_end_to_end(lake, capsys):
    s3, glue = lake["s3"], lake["glue"]
    summary = job.main(lake["argv"] + ["--JOB_RUN_ID", "jr_1"])

    assert summary == {
        "database": DATABASE,
        "run_id": "jr_1",
        "datasets": {
            "claims": {"objects": 2, "accepted": 4, "rejected": 4, "skipped": 0, "unpartitioned": 0, "partitions": 2}
        },
    }
    assert json.loads(capsys.readouterr().out.strip()) == summary
    for bucket in ("curated-zone", "masked-zone"):
        assert data_keys(s3, bucket) == [PLAIN_KEY, GZ_KEY]
    assert_curated_and_masked(s3)
    assert_partitions_registered(glue)
    assert_lineage_without_secrets(s3)


def assert_curated_and_masked(s3) -> None:
    """Curated rows are typed and in column order; masked rows hash, redact or partially mask the PII columns."""
    plain_key, gz_key = PLAIN_KEY, GZ_KEY
    curated = read_lines(s3, "curated-zone", plain_key)
    assert curated == [
        {
            "claim_id": "c1",
            "customer_email": EMAIL,
            "customer_name": "Jane Doe",
            "card_number": "4111111111111234",
            "amount": 12.5,
            "detail": '{"a":[1,2],"b":1}',
        },
        {
            "claim_id": "c2",
            "customer_email": None,
            "customer_name": None,
            "card_number": None,
            "amount": 3.0,
            "detail": None,
        },
    ]
    assert all(list(r) == [c["name"] for c in COLUMNS] for r in curated)
    assert [r["claim_id"] for r in read_lines(s3, "curated-zone", gz_key)] == ["g1", "g2"]

    masked = read_lines(s3, "masked-zone", plain_key)
    assert masked[0] == {
        **curated[0],
        "customer_email": expected_hash(EMAIL),
        "customer_name": None,
        "card_number": "************1234",
    }
    assert masked[1] == curated[1]  # nulls stay null
    assert [r["card_number"] for r in read_lines(s3, "masked-zone", gz_key)] == ["**", None]

    head = s3.head_object(Bucket="masked-zone", Key=plain_key)
    assert head["ServerSideEncryption"] == "aws:kms"


def assert_partitions_registered(glue) -> None:
    """Both tables get both partitions, each pointing at its own zone with the JSON SerDe."""
    for table, bucket in (("curated_claims", "curated-zone"), ("masked_claims", "masked-zone")):
        partitions = glue.get_partitions(DatabaseName=DATABASE, TableName=table)["Partitions"]
        locations = {tuple(p["Values"]): p["StorageDescriptor"] for p in partitions}
        assert sorted(locations) == [("2024-05-01",), ("2024-05-02",)]
        descriptor = locations[("2024-05-01",)]
        assert descriptor["Location"] == f"s3://{bucket}/{PREFIX}dt=2024-05-01/"
        assert descriptor["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"


def assert_lineage_without_secrets(s3) -> None:
    """The run's lineage manifest names sources, targets and masked columns, and carries no PII or key."""
    plain_key, gz_key = PLAIN_KEY, GZ_KEY
    raw_manifest = s3.get_object(Bucket="curated-zone", Key=f"_lineage/{DATABASE}/jr_1.json")["Body"].read()
    for secret in (EMAIL, "Jane Doe", "4111111111111234", HMAC_KEY):
        assert secret.encode() not in raw_manifest
    manifest = json.loads(raw_manifest)
    (lineage,) = manifest["datasets"]
    assert manifest["run_id"] == "jr_1" and manifest["finished_at"].endswith("+00:00")
    assert lineage["source_table"] == f"{DATABASE}.raw_claims"
    assert lineage["targets"] == [f"{DATABASE}.curated_claims", f"{DATABASE}.masked_claims"]
    assert lineage["masked_columns"] == {"customer_email": "hash", "customer_name": "redact", "card_number": "partial"}
    assert lineage["objects"][0] == {
        "source": f"s3://raw-zone/{plain_key}",
        "curated": f"s3://curated-zone/{plain_key}",
        "masked": f"s3://masked-zone/{plain_key}",
        "accepted": 2,
        "rejected": 4,
    }
    assert lineage["objects"][1]["source"] == f"s3://raw-zone/{gz_key}.gz"
    assert (lineage["accepted"], lineage["rejected"], lineage["skipped"]) == (4, 4, 0)


def test_second_run_is_a_no_op(lake):
    s3 = lake["s3"]
    job.main(lake["argv"] + ["--JOB_RUN_ID", "jr_1"])
    puts = []
    s3.meta.events.register("before-parameter-build.s3.PutObject", lambda params, **_: puts.append(params["Key"]))
    glue_calls = []
    lake["glue"].meta.events.register("before-parameter-build.glue", lambda model, **_: glue_calls.append(model.name))

    summary = job.main(lake["argv"] + ["--JOB_RUN_ID", "jr_2"], s3=s3, glue=lake["glue"])

    assert summary["datasets"]["claims"] == {
        "objects": 0,
        "accepted": 0,
        "rejected": 0,
        "skipped": 2,
        "unpartitioned": 0,
        "partitions": 0,
    }
    assert puts == [f"_lineage/{DATABASE}/jr_2.json"]  # only the run's own manifest
    assert glue_calls == []


def test_partitions_registered_earlier_are_accepted(lake):
    """A run that died after registering but before masking is re-run: AlreadyExists is not an error."""
    s3, glue = lake["s3"], lake["glue"]
    job.main(lake["argv"] + ["--JOB_RUN_ID", "jr_1"])
    s3.delete_object(Bucket="masked-zone", Key=f"{PREFIX}dt=2024-05-01/part-0001.json")

    summary = job.main(lake["argv"] + ["--JOB_RUN_ID", "jr_2"])

    assert summary["datasets"]["claims"] == {
        "objects": 1,
        "accepted": 2,
        "rejected": 4,
        "skipped": 1,
        "unpartitioned": 0,
        "partitions": 1,
    }
    assert len(glue.get_partitions(DatabaseName=DATABASE, TableName="masked_claims")["Partitions"]) == 2


def test_unpartitioned_object_is_processed_without_partition(lake):
    s3 = lake["s3"]
    s3.put_object(Bucket="raw-zone", Key=f"{PREFIX}loose.json", Body=CONCATENATED)

    counts = job.main(lake["argv"] + ["--JOB_RUN_ID", "jr_1"])["datasets"]["claims"]

    assert (counts["objects"], counts["unpartitioned"], counts["partitions"]) == (3, 1, 2)
    assert len(read_lines(s3, "masked-zone", f"{PREFIX}loose.json")) == 2


class Refuse:
    """A client that fails the test if the job calls it."""

    def __getattr__(self, name):
        raise AssertionError(f"unexpected call: {name}")


def test_secret_not_read_without_hashed_columns(lake):
    plan = make_plan([{**c, "pii": None if c["pii"] == "hash" else c["pii"]} for c in COLUMNS])
    argv = ["--plan", json.dumps(plan), "--JOB_RUN_ID", "jr_1"]  # no --hash_key_secret either

    summary = job.main(argv, secrets=Refuse())

    assert summary["datasets"]["claims"]["accepted"] == 4
    masked = read_lines(lake["s3"], "masked-zone", f"{PREFIX}dt=2024-05-01/part-0001.json")
    assert masked[0]["customer_email"] == EMAIL


def test_hashed_column_needs_the_secret_argument(lake):
    with pytest.raises(ValueError, match="hash_key_secret"):
        job.main(["--plan", json.dumps(make_plan())], s3=Refuse(), glue=Refuse())


def test_other_partition_error_fails_the_run(lake):
    class Glue:
        def get_table(self, DatabaseName, Name):
            return {"Table": {"StorageDescriptor": {"Columns": []}}}

        def batch_create_partition(self, **_):
            return {
                "Errors": [
                    {"PartitionValues": ["2024-05-01"], "ErrorDetail": {"ErrorCode": "AlreadyExistsException"}},
                    {
                        "PartitionValues": ["2024-05-01"],
                        "ErrorDetail": {"ErrorCode": "AccessDeniedException", "ErrorMessage": "no"},
                    },
                ]
            }

    with pytest.raises(RuntimeError, match="AccessDeniedException"):
        job.main(lake["argv"], glue=Glue())


def test_get_table_once_per_table():
    calls = []

    class Glue:
        def get_table(self, DatabaseName, Name):
            calls.append(Name)
            return {"Table": {"StorageDescriptor": {"Location": "s3://x/"}}}

        def batch_create_partition(self, **_):
            return {"Errors": []}

    run = job._Job(make_plan(), s3=None, glue=Glue(), hash_key=None)
    counts, partitions = {"unpartitioned": 0}, set()
    dataset = make_plan()["datasets"][0]
    for rest in ("dt=1/a.json", "dt=2/b.json", "dt=2/c.json"):
        run._partition(dataset, rest, counts, partitions)
    assert sorted(calls) == ["curated_claims", "masked_claims"]
    assert partitions == {("1",), ("2",)}


# --- pure functions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, type_, expected",
    [
        ("12", "int", 12),
        (12.0, "int", 12),
        ("12.0", "bigint", 12),
        (2**40, "bigint", 2**40),
        ("3.5", "double", 3.5),
        (3, "double", 3.0),
        ("TRUE", "boolean", True),
        ("false", "boolean", False),
        (True, "string", "true"),
        (7, "string", "7"),
        ({"b": 1, "a": None}, "string", '{"a":null,"b":1}'),
        ("2024-05-01T10:00:00Z", "timestamp", "2024-05-01T10:00:00Z"),
        ("2024-05-01T10:00:00.123+02:00", "timestamp", "2024-05-01T10:00:00.123+02:00"),
        ("2024-05-01T10:00:00.123456789Z", "timestamp", "2024-05-01T10:00:00.123456789Z"),  # Python 3.9 on Glue
        ("2024-05-01 10:00:00.1", "timestamp", "2024-05-01 10:00:00.1"),
        ("2024-05-01", "date", "2024-05-01"),
        (None, "int", None),
    ],
)
def test_cast_value(value, type_, expected):
    result = job.cast_value(value, type_)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(
    "value, type_",
    [
        (12.5, "int"),
        ("12.5", "int"),
        ("abc", "int"),
        ("", "int"),
        (True, "int"),
        ("1_000", "int"),
        (2**31, "int"),
        ([1], "bigint"),
        ("NaN", "double"),
        (float("inf"), "double"),
        ("yes", "boolean"),
        (1, "boolean"),
        (json.loads('"\\ud800"'), "string"),
        ("not a time", "timestamp"),
        (1714557600, "timestamp"),
        ("2024-05-01T10:00:00", "date"),
        ("x", "decimal"),
    ],
)
def test_cast_value_refuses(value, type_):
    with pytest.raises(ValueError) as error:
        job.cast_value(value, type_)
    assert repr(value) not in str(error.value)  # values may be PII


def test_curate_record():
    columns = [{"name": "id", "type": "int", "required": True}, {"name": "note", "type": "string"}]
    assert job.curate_record({"note": "n", "id": "1", "x": 2}, columns) == {"id": 1, "note": "n"}
    assert job.curate_record({"id": 1}, columns) == {"id": 1, "note": None}
    for rejected in ({"id": ""}, {"id": None}, {"note": "n"}, {"id": "one"}, ["id"], "id", None):
        assert job.curate_record(rejected, columns) is None


def test_mask_record():
    columns = [
        {"name": "a", "pii": "partial"},
        {"name": "b", "pii": "partial"},
        {"name": "c", "pii": "hash"},
        {"name": "d", "pii": "redact"},
        {"name": "e", "pii": None},
        {"name": "f", "pii": "hash"},
    ]
    record = {"a": "1234", "b": 123456, "c": True, "d": "x", "e": "kept", "f": None}
    key = b"k"
    assert job.mask_record(record, columns, key) == {
        "a": "****",
        "b": "**3456",
        "c": hmac.new(key, b"true", hashlib.sha256).hexdigest(),
        "d": None,
        "e": "kept",
        "f": None,
    }
    assert record["a"] == "1234"  # the curated record is not modified
    with pytest.raises(ValueError):
        job.mask_record({"c": "x"}, columns, None)


def test_parse_partition():
    assert job.parse_partition("dt=2024-05-01/hour=10/part.json", ["dt", "hour"]) == ("2024-05-01", "10")
    assert job.parse_partition("hour=10/dt=2024-05-01/part.json", ["dt", "hour"]) == ("2024-05-01", "10")
    assert job.parse_partition("dt=2024-05-01/part.json", ["dt", "hour"]) is None
    assert job.parse_partition("part=1.json", ["part"]) is None  # the file name is not a folder


def test_read_records():
    body = b'{"a":1}{"a":2} {"a":3}\n\n  \n[1]\n{"a":\n\xff\xfe\n{"a":4}{oops}{"a":5}\n'
    assert list(job.read_records(body, "x.json")) == [{"a": 1}, {"a": 2}, {"a": 3}, [1], None, None, {"a": 4}, None]
    assert list(job.read_records(gzip.compress(b'{"a":1}\n'), "no-suffix")) == [{"a": 1}]
    assert list(job.read_records(gzip.compress(b'{"a":1}'), "x.gz")) == [{"a": 1}]
    assert list(job.read_records('{"s":"line\u2028sep"}'.encode(), "x.json")) == [{"s": "line\u2028sep"}]


def test_parse_args_ignores_glue_arguments():
    argv = [
        "/tmp/script.py",
        "--enable-metrics",
        "--job-bookmark-option",
        "job-bookmark-disable",
        "--plan",
        '{"a": "--x"}',
        "--JOB_RUN_ID=jr_1",
        "--hash_key_secret",
        "arn:secret",
        "--flag",
    ]
    assert job.parse_args(argv) == {
        "enable-metrics": "",
        "job-bookmark-option": "job-bookmark-disable",
        "plan": '{"a": "--x"}',
        "JOB_RUN_ID": "jr_1",
        "hash_key_secret": "arn:secret",
        "flag": "",
    }


def test_plan_is_checked_before_anything_runs():
    plan = make_plan([{"name": "x", "type": "decimal"}])
    with pytest.raises(ValueError, match="unknown type"):
        job.main(["--plan", json.dumps(plan)], s3=Refuse(), glue=Refuse(), secrets=Refuse())
    plan = make_plan([{"name": "x", "type": "string", "pii": "tokenize"}])
    with pytest.raises(ValueError, match="PII strategy"):
        job.main(["--plan", json.dumps(plan)], s3=Refuse(), glue=Refuse(), secrets=Refuse())
