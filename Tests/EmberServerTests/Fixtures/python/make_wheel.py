"""Writes a tiny wheel, ember_tiny_dep 1.0 (module ember_tiny_dep with VALUE = 42), and a
requirements.txt naming it by path, into the directory given: an archive dependency pip installs
without a network."""
import base64
import hashlib
import os
import sys
import zipfile

out = sys.argv[1]
files = {
    "ember_tiny_dep.py": b"VALUE = 42\n",
    "ember_tiny_dep-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: ember-tiny-dep\nVersion: 1.0\n",
    "ember_tiny_dep-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: ember-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = ""
for name, data in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record += f"{name},sha256={digest},{len(data)}\n"
record += "ember_tiny_dep-1.0.dist-info/RECORD,,\n"
wheel = os.path.join(out, "ember_tiny_dep-1.0-py3-none-any.whl")
with zipfile.ZipFile(wheel, "w") as z:
    for name, data in files.items():
        z.writestr(name, data)
    z.writestr("ember_tiny_dep-1.0.dist-info/RECORD", record)
with open(os.path.join(out, "requirements.txt"), "w") as f:
    f.write(wheel + "\n")
