"""Build a 256-word ATA IDENTIFY DEVICE block as hex text for `hdparm --Istdin` (see README)."""

import sys


def put_text(words: list[int], start: int, count: int, text: str) -> None:
    text = text.ljust(count * 2)
    for i in range(count):
        words[start + i] = (ord(text[2 * i]) << 8) | ord(text[2 * i + 1])


def build(model, serial, sec128, w59, sectors=1953525168, rotational=True, erase=(163, 163)):
    w = [0] * 256
    w[0] = 0x0040
    w[1], w[3], w[6] = 16383, 16, 63
    put_text(w, 10, 10, serial)
    put_text(w, 23, 4, "FW01")
    put_text(w, 27, 20, model)
    w[47], w[49], w[50], w[53] = 0x8010, 0x0F00, 0x4000, 0x0007
    w[59] = w59
    lba28 = min(sectors, 0x0FFFFFFF)
    w[60], w[61] = lba28 & 0xFFFF, lba28 >> 16
    w[63], w[64] = 0x0007, 0x0003
    w[65:69] = [120, 120, 120, 120]
    w[75], w[76], w[80], w[81] = 31, 0x0F06, 0x03F0, 0x0000
    w[82] = 0x746B | 0x0002 | 0x0400  # SMART, security, write cache, HPA ...
    w[83], w[84] = 0x7D09 | 0x0400, 0x6163
    w[85] = 0x7469 | (0x0002 if sec128 & 0x2 else 0)
    w[86], w[87] = 0xBC01 | 0x0400, 0x6163
    w[88] = 0x207F
    w[89], w[90] = erase[0] // 2, erase[1] // 2
    w[93] = 0
    w[100:104] = [sectors & 0xFFFF, (sectors >> 16) & 0xFFFF, (sectors >> 32) & 0xFFFF, 0]
    w[106] = 0x6003
    w[128] = sec128
    w[217] = 7200 if rotational else 1
    w[255] = 0x00A5
    total = sum((x & 0xFF) + (x >> 8) for x in w[:255]) + 0xA5
    w[255] |= ((-total) & 0xFF) << 8
    lines = (" ".join(f"{x:04x}" for x in w[i : i + 8]) for i in range(0, 256, 8))
    return "\n".join(lines) + "\n"


# word 128: bit0 supported, 1 enabled, 2 locked, 3 frozen, 4 expired, 5 enhanced erase
# word 59: bit12 SANITIZE, 13 CRYPTO SCRAMBLE, 14 OVERWRITE, 15 BLOCK ERASE
CASES = {
    "hdd-security-frozen": ("LAB ROTATING DISK 1TB", "LABHDD0001", 0x0029, 0x0000, True),
    "hdd-security-sanitize-overwrite": (
        "LAB ROTATING DISK 1TB",
        "LABHDD0002",
        0x0021,
        0x5000,
        True,
    ),
    "ssd-sanitize-block-crypto": ("LAB SATA SSD 500GB", "LABSSD0001", 0x0021, 0xB000, False),
    "ssd-security-enabled-locked": ("LAB SATA SSD 500GB", "LABSSD0002", 0x0007, 0x0000, False),
}

if __name__ == "__main__":
    model, serial, sec, w59, rot = CASES[sys.argv[1]]
    sys.stdout.write(build(model, serial, sec, w59, rotational=rot))
