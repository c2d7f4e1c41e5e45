#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A DNS server for one test: answers A queries for NAME with ADDRESS, NXDOMAIN for the rest.
Usage: dns-responder.py LISTEN-ADDRESS NAME ADDRESS (UDP port 53). Prints "ready" once bound."""

import socket
import struct
import sys


def question_name(packet):
    labels, i = [], 12
    while packet[i]:
        labels.append(packet[i + 1:i + 1 + packet[i]].decode())
        i += 1 + packet[i]
    return ".".join(labels).lower(), i + 5  # the name, and the end of the question


def answer(packet, name, address):
    qname, end = question_name(packet)
    qtype = struct.unpack("!H", packet[end - 4:end - 2])[0]
    found = qname == name and qtype == 1
    flags = 0x8180 if qname == name else 0x8183  # response, RD, RA; NXDOMAIN for the rest
    header = packet[:2] + struct.pack("!HHHHH", flags, 1, 1 if found else 0, 0, 0)
    reply = header + packet[12:end]
    if found:
        reply += struct.pack("!HHHLH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(address)
    return reply


def main():
    listen, name, address = sys.argv[1:4]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((listen, 53))
    print("ready", flush=True)
    while True:
        packet, peer = sock.recvfrom(512)
        try:
            sock.sendto(answer(packet, name.lower(), address), peer)
        except (IndexError, struct.error):
            pass  # not a query we understand


if __name__ == "__main__":
    main()
