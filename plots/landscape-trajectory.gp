# The optimizer's path over the loss surface on its PCA plane (Li et al.): filled contours of the
# surface around the final point, the saved path from θ₀ (open circle) to the end (filled), one
# panel per run, all on one colour scale (runs that share θ₀ side by side).
#
# Input, per panel:
#   files  grid files `grid-<mode>-loss.dat` ("x y value", blank line after each row of constant y)
#   paths  `trajectory-path.dat` ("step x y" in the same grid units, θ₀ first, the final point last)
#
# Variables (gnuplot -e "name='value'; ..."; all values are strings):
#   files   required  space-separated grid files, one per panel
#   paths   required  space-separated path files, one per panel (same order)
#   out     required  output file; *.svg gives SVG, anything else PNG (pngcairo)
#   titles  optional  space-separated panel titles (default: the file names)
#   zlabel  optional  colour-bar label (default 'loss')
#   levels  optional  number of contour levels (default 15)
#   logz    optional  '1' plots log10(value)
#   title   optional  figure title
#
# Example:
#   gnuplot -e "files='kd/grid-KD-loss.dat'; paths='kd/trajectory-path.dat'; out='path.png'" landscape-trajectory.gp

if (!exists("files")) { exit error "landscape-trajectory.gp: set files='grid-A.dat ...'" }
if (!exists("paths")) { exit error "landscape-trajectory.gp: set paths='trajectory-path.dat ...'" }
if (!exists("out")) { exit error "landscape-trajectory.gp: set out='figure.png' or 'figure.svg'" }
if (!exists("titles")) { titles = files }
if (!exists("zlabel")) { zlabel = 'loss' }
if (!exists("levels")) { levels = '15' }
n = words(files)
if (words(paths) != n) { exit error "landscape-trajectory.gp: one path file per grid file" }
eval 'nlevels = int(' . levels . ')'

logz_on = exists("logz") && logz eq '1'
finite(v) = abs(v) < 1e300 ? (logz_on ? (v > 0 ? log10(v) : NaN) : v) : NaN
if (logz_on) { zlabel = 'log10 ' . zlabel }

zlo = 1e300; zhi = -1e300
do for [i=1:n] {
    stats word(files, i) using (finite($3)) nooutput
    if (STATS_min < zlo) { zlo = STATS_min }
    if (STATS_max > zhi) { zhi = STATS_max }
}
if (zhi <= zlo) { zhi = zlo + 1 }

width = 460 * n + 120
if (strlen(out) > 4 && out[strlen(out)-3:] eq '.svg') {
    set terminal svg size width, 500 dynamic enhanced font 'DejaVu Sans,12' background rgb 'white'
} else {
    set terminal pngcairo size width, 500 enhanced font 'DejaVu Sans,11' background rgb 'white'
}
set output out

set palette defined (0 '#440154', 1 '#3b528b', 2 '#21918c', 3 '#5ec962', 4 '#fde725')
set cbrange [zlo:zhi]
set zrange [zlo:zhi]
set cntrparam levels incremental zlo, (zhi - zlo) / (1.0 * nlevels), zhi
set cntrparam bspline
unset key
set tics out nomirror
set view map
set contour base
set xlabel 'PC 1'
set ylabel 'PC 2' offset 1, 0
set pm3d interpolate 3, 3
top = exists("title") ? 0.92 : 0.98
set multiplot title (exists("title") ? title : '')
pw = 0.88 / n
do for [i=1:n] {
    set origin (i - 1) * pw, 0.0
    set size ratio -1 pw, top
    set title word(titles, i) noenhanced
    if (i == n) {
        set colorbox user origin screen 0.91, screen 0.15 size screen 0.015, screen 0.7
        set cblabel zlabel noenhanced
    } else { unset colorbox }
    # The final point is the plane's origin (the centre of the surface).
    set label 1 '' at 0, 0, zhi point pt 7 ps 1.6 lc rgb '#d62728' front
    # The path sits at the top of the z range so the map view draws it over the surface.
    splot word(files, i) using 1:2:(finite($3)) with pm3d nocontour, \
          word(files, i) using 1:2:(finite($3)) nosurface with lines lc rgb '#202020' lw 0.8, \
          word(paths, i) using 2:3:(zhi) nocontour with linespoints lc rgb '#d62728' lw 2 pt 7 ps 0.5, \
          word(paths, i) every ::0::0 using 2:3:(zhi) nocontour with points lc rgb '#d62728' pt 6 ps 2
}
unset multiplot
