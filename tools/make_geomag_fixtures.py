"""Writes the hand-made IAGA-2002 fixtures of tests/fixtures/geomag/ (run from that folder).

Plain Python 3, no packages. The values are made up; each malformed file is a copy of
abc20200101vmin.min with exactly one defect, named after the refusal it triggers.
"""


def rec(key, value):
    s = " " + key.ljust(23) + value
    return s.ljust(69) + "|"


def comment(text):
    return (" # " + text).ljust(69) + "|"


def header(code, lat, lon, reported, interval):
    lines = [
        rec("Format", "IAGA-2002"),
        rec("Source of Data", "quakelab test fixture"),
        rec("Station Name", "Test " + code),
        rec("IAGA CODE", code),
        rec("Geodetic Latitude", lat),
        rec("Geodetic Longitude", lon),
        rec("Elevation", "1000"),
        rec("Reported", reported),
        rec("Sensor Orientation", reported),
        rec("Digital Sampling", "0.01 second"),
        rec("Data Interval Type", interval),
        rec("Data Type", "variation"),
        comment("Hand-made values for quakelab's tests."),
    ]
    cols = "DATE       TIME         DOY     " + "".join((code + c).ljust(10) for c in reported)
    lines.append(cols.ljust(69) + "|")
    return lines


def row(t, doy, vals):
    return t + " " + str(doy).rjust(3) + "    " + "".join(("%.2f" % v).rjust(10) for v in vals)


def write(name, lines):
    with open(name, "w") as f:
        f.write("\n".join(lines) + "\n")


# Minute data, two days of ABC (XYZF), with missing codes.
d1 = header("ABC", "30.500", "250.000", "XYZF", "1-minute")
d1 += [
    row("2020-01-01 00:00:00.000", 1, [21000.00, -1500.00, 45000.00, 49680.00]),
    row("2020-01-01 00:01:00.000", 1, [21001.00, -1501.00, 45001.00, 88888.00]),
    row("2020-01-01 00:02:00.000", 1, [99999.00, -1502.00, 45002.00, 49682.00]),
    row("2020-01-01 00:03:00.000", 1, [21003.00, -1503.00, 45003.00, 49683.00]),
    row("2020-01-01 00:04:00.000", 1, [21004.00, -1504.00, 45004.00, 49684.00]),
]
write("abc20200101vmin.min", d1)
d2 = header("ABC", "30.500", "250.000", "XYZF", "1-minute")
d2 += [
    row("2020-01-02 00:00:00.000", 2, [21010.00, -1510.00, 45010.00, 49690.00]),
    row("2020-01-02 00:01:00.000", 2, [21011.00, -1511.00, 45011.00, 49691.00]),
    row("2020-01-02 00:03:00.000", 2, [21013.00, -1513.00, 45013.00, 99999.00]),
]
write("abc20200102vmin.min", d2)
# Second data of DEF (XYZF).
s = header("DEF", "-12.250", "10.000", "XYZF", "1-second")
s += [
    row("2020-01-01 12:00:00.000", 1, [30000.00, 100.00, -20000.00, 36069.38]),
    row("2020-01-01 12:00:01.000", 1, [30000.50, 100.25, -20000.25, 36069.94]),
    row("2020-01-01 12:00:02.000", 1, [99999.00, 99999.00, 99999.00, 99999.00]),
    row("2020-01-01 12:00:03.000", 1, [30001.50, 100.75, -20000.75, 36071.00]),
]
write("def20200101vsec.sec", s)
# HDZF minute data of GHI: another component set.
g = header("GHI", "45.000", "5.000", "HDZF", "1-minute")
g += [
    row("2020-01-01 00:00:00.000", 1, [21000.00, 10.00, 45000.00, 49659.84]),
    row("2020-01-01 00:01:00.000", 1, [21000.00, 10.00, 45000.00, 49659.84]),
]
write("ghi20200101vmin.min", g)


def bad(name, old, new):
    lines = list(d1)
    i = next(i for i, line in enumerate(lines) if old in line)
    lines[i] = lines[i].replace(old, new)
    write(name, lines)


bad("bad_number.min", "45002.00", "45O02.00")
bad("bad_time.min", "2020-01-01 00:03:00.000", "2020-01-01 00:63:00.000")
bad("short_record.min", "  49684.00", "")
bad("backwards.min", "2020-01-01 00:03:00.000", "2020-01-01 00:01:00.000")
bad("cadence_mismatch.min", "1-minute", "1-second")
write("no_latitude.min", [line for line in d1 if "Geodetic Latitude" not in line])
