"""An independent safetensors writer and reader for Huginn's tests: Python 3 standard library only (struct, json).

  write OUT < tensors.json   tensors.json: {"tensors": [{"name", "shape", "values"}], "metadata": {...}}; writes F32
                             tensors in NAME order (not the order given), header padded with spaces to 8 bytes.
  read FILE > tensors.json   checks the file as the format's reference reader does and prints
                             {"metadata": {...}, "tensors": [{"name", "dtype", "shape", "values"}]} in offset order.
"""
import json
import struct
import sys


def write(path, document):
    tensors = sorted(document["tensors"], key=lambda t: t["name"])
    header, data, offset = {}, b"", 0
    if document.get("metadata"):
        header["__metadata__"] = document["metadata"]
    for t in tensors:
        count = 1
        for d in t["shape"]:
            count *= d
        assert len(t["values"]) == count, t["name"]
        blob = struct.pack("<%df" % count, *t["values"])
        header[t["name"]] = {"dtype": "F32", "shape": t["shape"], "data_offsets": [offset, offset + len(blob)]}
        data += blob
        offset += len(blob)
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * ((8 - len(encoded) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)) + encoded + data)


def read(path):
    with open(path, "rb") as f:
        content = f.read()
    (n,) = struct.unpack("<Q", content[:8])
    assert 8 + n <= len(content), "header length beyond the file"
    text = content[8:8 + n].decode("utf-8")
    assert text.startswith("{"), "header does not start with {"
    header = json.loads(text)
    metadata = header.pop("__metadata__", {})
    data = content[8 + n:]
    entries = sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0])
    sizes = {"F32": 4}
    out, end = [], 0
    for name, info in entries:
        begin, stop = info["data_offsets"]
        assert begin == end, "hole or overlap at %s" % name
        count = 1
        for d in info["shape"]:
            count *= d
        assert stop - begin == count * sizes[info["dtype"]], "size of %s" % name
        values = list(struct.unpack("<%df" % count, data[begin:stop]))
        out.append({"name": name, "dtype": info["dtype"], "shape": info["shape"], "values": values})
        end = stop
    assert end == len(data), "data section longer than its tensors"
    json.dump({"metadata": metadata, "tensors": out}, sys.stdout)


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2], json.load(sys.stdin))
    else:
        read(sys.argv[2])
