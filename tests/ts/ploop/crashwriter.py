#!/usr/bin/env python3
"""Crash-test helper (not a test by itself).

  crashwriter.py write FILE LOG NBLOCKS   4k blocks at random places, each
        fsynced; LOG gets "try I SEQ" before and "ack I SEQ" after fsync.
  crashwriter.py verify FILE LOG NBLOCKS  every acknowledged block holds its
        last acknowledged version or a newer one; only the block in flight
        at the crash may be torn.
"""
import hashlib
import os
import random
import struct
import sys

BS = 4096


def block(i, seq):
    body = struct.pack('<QQ', i, seq) + os.urandom(BS - 16 - 32)
    return body + hashlib.sha256(body).digest()


def write(path, log, n):
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    lf = open(log, 'a', buffering=1)
    seq = 0
    while True:
        i = random.randrange(n)
        seq += 1
        lf.write('try %d %d\n' % (i, seq))
        os.pwrite(fd, block(i, seq), i * BS)
        os.fsync(fd)
        lf.write('ack %d %d\n' % (i, seq))


def verify(path, log, n):
    acked, last_try = {}, None
    for line in open(log):
        parts = line.split()
        if len(parts) != 3:
            continue
        kind, i, seq = parts[0], int(parts[1]), int(parts[2])
        if kind == 'ack':
            acked[i] = seq
        else:
            last_try = (i, seq)
    with open(path, 'rb') as f:
        data = f.read()
    bad = 0
    for i, s in acked.items():
        blk = data[i * BS:(i + 1) * BS]
        if len(blk) == BS and hashlib.sha256(blk[:-32]).digest() == blk[-32:]:
            bi, bseq = struct.unpack('<QQ', blk[:16])
            if bi == i and bseq >= s:
                continue
            print('block %d: has seq %d, acknowledged %d' % (i, bseq, s))
        elif last_try and last_try[0] == i and last_try[1] > s:
            continue  # torn by the write in flight: allowed
        else:
            print('block %d: garbage (acknowledged seq %d)' % (i, s))
        bad += 1
    print('%d acknowledged blocks checked, %d bad' % (len(acked), bad))
    return 1 if bad else 0


if __name__ == '__main__':
    cmd, path, log, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if cmd == 'write':
        write(path, log, n)
    else:
        sys.exit(verify(path, log, n))
