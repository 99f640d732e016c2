"""Writes the small valid seed files the fuzzers start from (Fuzz/Corpus/<target>/).

PNG seeds are the committed PNG test fixtures (Tests/ConvKitTests/Fixtures/png); this script
writes the IDX, CIFAR-10 and safetensors ones. Standard library only.
"""
import gzip, io, json, os, struct, tarfile

root = os.path.join(os.path.dirname(__file__), "..", "Fuzz", "Corpus")


def write(target, name, data):
    os.makedirs(os.path.join(root, target), exist_ok=True)
    with open(os.path.join(root, target, name), "wb") as f:
        f.write(data)


def gz(data):
    return gzip.compress(data, mtime=0)


# IDX: labels (1-D) and images (3-D), plain and gzipped.
labels = struct.pack(">I", 0x801) + struct.pack(">I", 4) + bytes([7, 2, 1, 0])
images = struct.pack(">I", 0x803) + struct.pack(">III", 2, 4, 4) + bytes(range(0, 256, 8))
write("idx", "labels-4", labels)
write("idx", "images-2x4x4", images)
write("idx", "labels-4.gz", gz(labels))
write("idx", "images-2x4x4.gz", gz(images))

# CIFAR-10: two raw records, and an archive laid out like the published one.
records = b"".join(bytes([label]) + bytes((label * 7 + i) % 256 for i in range(3072)) for label in (3, 9))
write("cifar", "two-records.bin", records)
buffer = io.BytesIO()
with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
    folder = tarfile.TarInfo("cifar-10-batches-bin")
    folder.type = tarfile.DIRTYPE
    tar.addfile(folder)
    info = tarfile.TarInfo("cifar-10-batches-bin/test_batch.bin")
    info.size = len(records)
    tar.addfile(info, io.BytesIO(records))
write("cifar", "archive.tar", buffer.getvalue())
write("cifar", "archive.tar.gz", gz(buffer.getvalue()))


# safetensors: F32/I64/F16 entries and metadata, laid out as the format requires.
def safetensors(tensors, metadata=None):
    header, data = {}, b""
    for name, (dtype, shape, payload) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


write("safetensors", "weights.safetensors", safetensors({
    "0.weight": ("F32", [2, 1, 3, 3], struct.pack("<18f", *[i / 10 for i in range(18)])),
    "0.bias": ("F32", [2], struct.pack("<2f", 0.5, -0.5)),
    "step": ("I64", [1], struct.pack("<q", 42)),
    "half": ("F16", [2], struct.pack("<2e", 1.5, -2.0)),
}, {"format": "pt", "epoch": "3"}))
write("safetensors", "empty.safetensors", safetensors({}))


# Regression inputs: re-creations of what the first fuzzing runs crashed on (the original files
# were lost with a scratch folder), replayed by FuzzRegressionTests from Tests/ConvKitTests/Fixtures/fuzz/.
regressions = os.path.join(os.path.dirname(__file__), "..", "Tests", "ConvKitTests", "Fixtures", "fuzz")


def regression(target, name, data):
    os.makedirs(os.path.join(regressions, target), exist_ok=True)
    with open(os.path.join(regressions, target, name), "wb") as f:
        f.write(data)


# safetensors: integers() converted a float too large for Int (a trap).
regression("safetensors", "float-beyond-int.safetensors", safetensors({
    "step": ("F32", [2], struct.pack("<2f", 1e30, float("nan"))),
}))


def tar_header(name, size, kind=b"0"):
    header = bytearray(512)
    header[0:len(name[:100])] = name[:100]
    header[124:124 + len(size)] = size
    header[156:157] = kind
    return bytes(header)


# CIFAR archives: a negative size (sliced with a negative length) and names that made
# Foundation's path functions trap.
regression("cifar", "negative-size.tar", tar_header(b"test_batch.bin", b"-1") + bytes(1536))
odd = b"".join(tar_header(name, b"1") + bytes(512) for name in [b"/", b"//./", b"\xc3(\xff/\xfe", b"cifar-10-batches-bin/\x01/"])
regression("cifar", "odd-names.tar", odd + bytes(1024))
# IDX: a gzip bomb behind a header for two labels.
regression("idx", "gzip-bomb.gz", gz(struct.pack(">II", 0x801, 2) + bytes(8 << 20)))
