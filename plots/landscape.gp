# Loss landscape of several training modes side by side (paper Fig. 2a): a filled contour map
# (top row) and a 3-D pm3d surface (bottom row) per mode, all on ONE colour/z scale so that the
# flatter landscape is visibly flatter.
#
# Input: grid files written by TILandscape, `grid-<mode>-<quantity>.dat`:
#     # comment line(s)
#     x y value          one line per grid point
#     (blank line)       after every row of constant y (gnuplot grid format)
#
# Variables (pass with gnuplot -e "name='value'; ..."; all values are strings):
#   files   required  space-separated grid files, one per mode (paths without spaces)
#   out     required  output file; *.svg gives SVG, anything else PNG (pngcairo)
#   titles  optional  space-separated panel titles (default: the file names)
#   zlabel  optional  colour-bar / z-axis label (default 'loss')
#   levels  optional  number of contour levels (default 15)
#   zmin, zmax optional  common value range (default: min/max over all files; in log10 units with logz)
#   logz    optional  '1' plots log10(value) (non-positive values become holes): for landscapes whose
#                     edges are orders of magnitude above the minimum
#   xlabel, ylabel optional axis labels (default 'α' and 'β', the direction coordinates)
#   title   optional  figure title
#
# Example:
#   gnuplot -e "files='grid-KD-loss.dat grid-TI-G-loss.dat'; titles='KD TI-G'; out='landscape.png'" landscape.gp

if (!exists("files")) { exit error "landscape.gp: set files='grid-A.dat grid-B.dat ...'" }
if (!exists("out")) { exit error "landscape.gp: set out='figure.png' or 'figure.svg'" }
if (!exists("titles")) { titles = files }
if (!exists("zlabel")) { zlabel = 'loss' }
if (!exists("levels")) { levels = '15' }
if (!exists("xlabel")) { xlabel = 'α' }
if (!exists("ylabel")) { ylabel = 'β' }
n = words(files)
# Numbers arrive as strings; eval parses them as gnuplot literals ("1e-3" included).
eval 'nlevels = int(' . levels . ')'

# Diverged points (nan, ±inf) are left undefined: they would wreck the common range and the surfaces.
logz_on = exists("logz") && logz eq '1'
finite(v) = abs(v) < 1e300 ? (logz_on ? (v > 0 ? log10(v) : NaN) : v) : NaN
if (logz_on) { zlabel = 'log10 ' . zlabel }

# One value range over every file: the shared scale is the point of the figure.
zlo = 1e300; zhi = -1e300
do for [i=1:n] {
    stats word(files, i) using (finite($3)) nooutput
    if (STATS_min < zlo) { zlo = STATS_min }
    if (STATS_max > zhi) { zhi = STATS_max }
}
if (exists("zmin")) { eval 'zlo = 1.0 * (' . zmin . ')' }
if (exists("zmax")) { eval 'zhi = 1.0 * (' . zmax . ')' }
if (zhi <= zlo) { zhi = zlo + 1 }

width = 420 * n + 120
if (strlen(out) > 4 && out[strlen(out)-3:] eq '.svg') {
    set terminal svg size width, 820 dynamic enhanced font 'DejaVu Sans,12' background rgb 'white'
} else {
    set terminal pngcairo size width, 820 enhanced font 'DejaVu Sans,11' background rgb 'white'
}
set output out

# A viridis-like ramp (perceptually ordered, readable in grey); 5.4 has no built-in viridis.
set palette defined (0 '#440154', 1 '#3b528b', 2 '#21918c', 3 '#5ec962', 4 '#fde725')
set cbrange [zlo:zhi]
set zrange [zlo:zhi]
set cntrparam levels incremental zlo, (zhi - zlo) / (1.0 * nlevels), zhi
set cntrparam bspline
unset key
set tics out nomirror

set cntrlabel onecolor
set pm3d interpolate 3, 3
top = exists("title") ? 0.93 : 0.98
set multiplot title (exists("title") ? title : '')

# Panels are placed by hand: 3-D plots ignore multiplot layout margins and would spill over.
pw = 0.88 / n
# Top row: filled contour maps with iso-lines.
set view map
set contour base
set xlabel xlabel
set ylabel ylabel offset 1, 0
do for [i=1:n] {
    set origin (i - 1) * pw, 0.5
    set size ratio -1 pw, top - 0.5
    set title word(titles, i) noenhanced
    if (i == n) {
        set colorbox user origin screen 0.91, screen 0.15 size screen 0.015, screen 0.7
        set cblabel zlabel noenhanced
    } else { unset colorbox }
    splot word(files, i) using 1:2:(finite($3)) with pm3d nocontour, \
          word(files, i) using 1:2:(finite($3)) nosurface with lines lc rgb '#202020' lw 0.8
}

# Bottom row: the same data as 3-D surfaces, same z range.
unset contour
set view 55, 35, 0.95, 1.0
set xyplane 0
set zlabel zlabel rotate by 90 offset 1, 0 noenhanced
set xlabel xlabel offset 0, -0.5
set ylabel ylabel offset 0, -0.5
# About four z tics at a 1-2-5 step, so the small 3-D panels stay legible.
zraw = (zhi - zlo) / 4.0
zmag = 10 ** floor(log10(zraw))
zf = zraw / zmag
zstep = (zf < 1.5 ? 1 : zf < 3.5 ? 2 : zf < 7.5 ? 5 : 10) * zmag
set ztics zstep
unset colorbox
do for [i=1:n] {
    set origin (i - 1) * pw, 0.0
    set size noratio pw, 0.5
    set title word(titles, i) offset 0, -1 noenhanced
    splot word(files, i) using 1:2:(finite($3)) with pm3d
}
unset multiplot
