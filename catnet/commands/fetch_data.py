"""catnet fetch-data: download the course's two HDF5 files and verify their SHA-256."""

from __future__ import annotations

from catcore.config import DATA_DIR, DATA_MIRROR, FETCH_TIMEOUT_SECONDS, data_dir
from catnet.cli import add_command, timeout_seconds


def register(subparsers) -> None:
    parser = add_command(
        subparsers, "fetch-data", "download the two course files and check their SHA-256",
        "Download train_catvnoncat.h5 and test_catvnoncat.h5 from a public mirror into DIR. Each file is "
        "checked against the SHA-256 sum kept in catnet and written only whole and correct; a file already "
        "there with the right sum is kept.",
    )
    parser.add_argument("--dest", metavar="DIR",
                        help=f"folder to put the files in (default: where catnet looks for them, $CATNET_DATA if set, "
                             f"else {DATA_DIR})")
    parser.add_argument("--mirror", default=DATA_MIRROR, metavar="URL", help="base URL of the folder holding both files")
    parser.add_argument("--timeout", type=timeout_seconds, default=FETCH_TIMEOUT_SECONDS, metavar="SECONDS",
                        help="give up when the server stays silent this long")
    parser.set_defaults(run=run)


def run(args) -> int:
    from catcore.config import DATA_FILES
    from catcore.outputs import check_output_file, commit
    from catnet.fetch import CHECKSUMS, already_there, fetch_dataset

    dest, _ = data_dir(args.dest)  # without --dest: where every command given no --data looks for them
    for name in DATA_FILES.values():  # a folder or device where a file goes, an unwritable --dest: said now
        if not already_there(dest / name, CHECKSUMS[name]):  # a read-only folder that has them is fine
            check_output_file("--dest", dest / name)
    fetched_files = fetch_dataset(dest, mirror=args.mirror, timeout=args.timeout)
    commit()  # both files in place, together, before the lines that say so
    for fetched in fetched_files:
        action = "downloaded" if fetched.downloaded else "already present"
        print(f"{fetched.path}: {action}, {fetched.size:,} bytes, sha256 ok")
    return 0
