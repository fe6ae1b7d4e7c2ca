#!/usr/bin/env python3
"""Writes builtin.schema: the protobuf messages of the built-in kinds that
the simulated cluster serves, read from a checkout of k8s.io/api and
k8s.io/apimachinery at the same tag (the generated.proto files give the
field numbers, names and types; the Go types beside them say which fields
keep a zero value in JSON: pointers and fields without omitempty).

    python3 regenerate.py API_DIR APIMACHINERY_DIR TAG > builtin.schema

Go's JSON puts the fields of an embedded `,inline` struct in its parent;
those fields are marked inline.
"""

import os
import re
import sys

API_PACKAGES = ["core/v1", "apps/v1", "batch/v1", "networking/v1", "policy/v1",
                "autoscaling/v1", "autoscaling/v2", "coordination/v1", "rbac/v1"]
MACHINERY_PACKAGES = ["pkg/apis/meta/v1", "pkg/runtime", "pkg/util/intstr", "pkg/api/resource"]
SCALARS = {"string", "bytes", "bool", "int32", "int64"}


def short(package):
    """k8s.io.api.apps.v1 -> apps.v1, k8s.io.apimachinery.pkg.apis.meta.v1 -> meta.v1."""
    for prefix in ("k8s.io.api.", "k8s.io.apimachinery.pkg.apis.",
                   "k8s.io.apimachinery.pkg.util.", "k8s.io.apimachinery.pkg.api.",
                   "k8s.io.apimachinery.pkg."):
        if package.startswith(prefix):
            return package[len(prefix):]
    raise SystemExit(f"unknown package {package}")


def qualify(type_name, package):
    if type_name in SCALARS:
        return type_name
    if type_name.startswith("."):
        full = type_name[1:]
        package, _, name = full.rpartition(".")
        return f"{short(package)}.{name}"
    return f"{short(package)}.{type_name}"


FIELD = re.compile(r"^\s*(optional|repeated)\s+(\S+)\s+(\w+)\s*=\s*(\d+)\s*;")
MAP = re.compile(r"^\s*map<\s*string\s*,\s*(\S+)\s*>\s+(\w+)\s*=\s*(\d+)\s*;")


def read_proto(path):
    """[(message, [(tag, name, type, label)])] in file order."""
    package = None
    messages = []
    depth = 0
    for line in open(path, encoding="utf-8"):
        line = line.split("//")[0]
        if m := re.match(r"^\s*package\s+([\w.]+)\s*;", line):
            package = m.group(1)
        elif m := re.match(r"^\s*message\s+(\w+)\s*{", line):
            if depth:
                raise SystemExit(f"nested message in {path}: {line}")
            messages.append((f"{short(package)}.{m.group(1)}", []))
            depth = 1
        elif m := FIELD.match(line):
            label = "[]" if m.group(1) == "repeated" else ""
            messages[-1][1].append((int(m.group(4)), m.group(3), label + qualify(m.group(2), package)))
        elif m := MAP.match(line):
            messages[-1][1].append((int(m.group(3)), m.group(2), "{}" + qualify(m.group(1), package)))
        elif "}" in line:
            depth = 0
        elif line.strip() and not re.match(r"^\s*(syntax|import|option)\b", line) and depth:
            raise SystemExit(f"unread line in {path}: {line}")
    return messages


GO_STRUCT = re.compile(r"^type\s+(\w+)\s+struct\s*{")
GO_FIELD = re.compile(r'^\s+(?:\w+\s+)?(\*?)[\w.\[\]*]+\s+`json:"([^"]*)"\s+protobuf:"([^"]*)"')


def read_go(directory):
    """{(struct, field number): flags} from the Go types of a package: keep
    where JSON shows a zero value, inline where JSON flattens a struct."""
    flags_of = {}
    for file in sorted(os.listdir(directory)):
        if not file.endswith(".go") or file.endswith("_test.go"):
            continue
        struct = None
        for line in open(os.path.join(directory, file), encoding="utf-8"):
            if m := GO_STRUCT.match(line):
                struct = m.group(1)
            elif line.startswith("}"):
                struct = None
            elif struct and (m := GO_FIELD.match(line)):
                number = int(m.group(3).split(",")[1])
                json_options = m.group(2).split(",")[1:]
                flags = []
                if m.group(1) == "*" or "omitempty" not in json_options:
                    flags.append("keep")
                if "inline" in json_options:
                    flags.append("inline")
                flags_of[(struct, number)] = flags
    return flags_of


def main():
    api, machinery, tag = sys.argv[1:4]
    print(f"# The protobuf messages of the served built-in kinds, from k8s.io/api and")
    print(f"# k8s.io/apimachinery {tag} (Apache-2.0, The Kubernetes Authors).")
    print(f"# Written by regenerate.py; do not edit. A message line names a message;")
    print(f"# a field line is `NUMBER NAME TYPE [keep] [inline]`: [] repeated, {{}} map")
    print(f"# from string, keep where JSON shows the field even with a zero value,")
    print(f"# inline where JSON puts the message's fields in its parent.")
    packages = [os.path.join(api, p) for p in API_PACKAGES] + \
               [os.path.join(machinery, p) for p in MACHINERY_PACKAGES]
    for directory in packages:
        flags_of = read_go(directory)
        for message, fields in read_proto(os.path.join(directory, "generated.proto")):
            struct = message.rsplit(".", 1)[1]
            print(f"message {message}")
            for tag_number, name, type_name in fields:
                flags = "".join(" " + f for f in flags_of.get((struct, tag_number), []))
                print(f"{tag_number} {name} {type_name}{flags}")


main()
