"""Tables as a policy declares them: SQLAlchemy ``Table`` objects for a SQL dataset.

Used to create the sample product database and test databases from the
policy file itself, so the declaration and the schema cannot drift apart.
Column types follow each field's ``type``; primary keys and references
become primary-key and foreign-key constraints.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeEngine

from tutela.errors import ConnectorError
from tutela.policy.model import Dataset, DatasetField
from tutela.policy.references import resolve_reference

__all__ = ["dataset_metadata"]

_TYPES: dict[str, TypeEngine[Any]] = {
    "string": String(320),
    "text": Text(),
    "integer": BigInteger(),
    "number": Float(),
    "boolean": Boolean(),
    "date": Date(),
    "datetime": DateTime(),
    "json": JSON(),
    "binary": LargeBinary(),
}


def _type(
    dataset: Dataset, fld: DatasetField, by_name: dict[tuple[str, str], DatasetField]
) -> TypeEngine[Any]:
    if fld.type is not None:
        return _TYPES[fld.type]
    if fld.references is not None:
        target = resolve_reference(dataset.name, fld.references)
        if target is not None and target[0] == dataset.name and target[1:] in by_name:
            return _type(dataset, by_name[target[1:]], by_name)
    return BigInteger() if fld.primary_key else String(320)


def dataset_metadata(dataset: Dataset) -> MetaData:
    """The tables of a SQL dataset, with keys and foreign keys, ready for ``create_all``."""
    if dataset.type != "sql":
        raise ConnectorError(f"dataset {dataset.name!r} is not a SQL dataset")
    metadata = MetaData()
    by_name = {(c.name, f.name): f for c in dataset.collections for f in c.fields}
    for collection in dataset.collections:
        columns = []
        for fld in collection.fields:
            args: list[ForeignKey] = []
            if fld.references is not None:
                target = resolve_reference(dataset.name, fld.references)
                if target is not None and target[0] == dataset.name:
                    args.append(ForeignKey(f"{target[1]}.{target[2]}"))
            columns.append(
                Column(
                    fld.name,
                    _type(dataset, fld, by_name),
                    *args,
                    primary_key=fld.primary_key,
                    autoincrement=False,
                    nullable=not fld.primary_key,
                )
            )
        Table(collection.name, metadata, *columns)
    return metadata
