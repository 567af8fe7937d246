"""docs/bench/footprint.svg: PID 1's Pss and the supervision tree's Pss
per init, 32 services, as horizontal bars on a log scale (pinit and
systemd differ by a factor of about 40). Plain SVG text, no library."""

import math
from xml.sax.saxutils import escape

ROW = 46            # px per init
LEFT = 170          # px for the init's name
WIDTH = 820
RIGHT = 90          # px for the value labels
TOP = 58
COLORS = {"pid1": "#3b6ea5", "tree": "#e39b3b"}


def bars(figs, cols):
    """[(label, PID 1 Pss KiB, tree Pss KiB)] for the inits that have both."""
    out = []
    for init, arch in cols:
        f = figs[(init.name, arch)]
        pid1, tree = f.get("pss-32"), f.get("tree-pss-32")
        if pid1 is not None and tree is not None:
            out.append(("%s (%s)" % (init.name, arch), pid1.value, tree.value))
    return out


def ticks(top):
    """Powers of 4 KiB from 64 KiB up to the first one above `top`."""
    out, v = [], 64
    while True:
        out.append(v)
        if v >= top:
            return out
        v *= 4


def kib_text(v):
    return "%d KiB" % v if v < 1024 else "%.1f MiB" % (v / 1024)


def svg(rows, when):
    height = TOP + ROW * max(1, len(rows)) + 40
    if not rows:
        return ('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d">'
                '<text x="10" y="30">no memory figures in this run</text></svg>\n'
                % (WIDTH, height))
    scale = ticks(max(max(p, t) for _, p, t in rows))
    lo, hi = math.log(scale[0]), math.log(scale[-1])
    span = WIDTH - LEFT - RIGHT

    def x(v):
        return LEFT + span * (math.log(max(v, scale[0])) - lo) / (hi - lo)

    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="12">' % (WIDTH, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="10" y="20" font-size="14" font-weight="bold">Memory with 32 services: '
           'PID 1 Pss and supervision tree Pss (log scale)</text>',
           '<text x="10" y="38" fill="#555">make bench, %s; docs/bench/RESULTS.md has the '
           'method</text>' % escape(when),
           '<rect x="%d" y="44" width="10" height="10" fill="%s"/>'
           '<text x="%d" y="53">PID 1</text>' % (LEFT, COLORS["pid1"], LEFT + 14),
           '<rect x="%d" y="44" width="10" height="10" fill="%s"/>'
           '<text x="%d" y="53">tree (PID 1 + supervisors)</text>'
           % (LEFT + 70, COLORS["tree"], LEFT + 84)]
    bottom = TOP + ROW * len(rows)
    for v in scale:
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>'
                   % (x(v), TOP, x(v), bottom))
        out.append('<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%s</text>'
                   % (x(v), bottom + 16, kib_text(v)))
    for n, (label, pid1, tree) in enumerate(rows):
        y = TOP + ROW * n + 6
        out.append('<text x="%d" y="%d" text-anchor="end">%s</text>'
                   % (LEFT - 8, y + 20, escape(label)))
        for k, (key, v) in enumerate((("pid1", pid1), ("tree", tree))):
            top = y + k * 17
            out.append('<rect x="%d" y="%d" width="%.1f" height="15" fill="%s"/>'
                       % (LEFT, top, x(v) - LEFT, COLORS[key]))
            out.append('<text x="%.1f" y="%d">%s</text>' % (x(v) + 4, top + 12, kib_text(v)))
    out.append("</svg>")
    return "\n".join(out) + "\n"
