# 1-D loss landscape: loss along one filter-normalized direction, or along the straight line
# between two checkpoints (interpolation, x = t), one line per mode.
#
# Input: 1-D grid files written by TILandscape, `grid-<mode>-<quantity>.dat`:
#     # comment line(s)
#     x value            one line per grid point
#
# Variables (gnuplot -e "name='value'; ..."; all values are strings):
#   files   required  space-separated grid files, one per mode (paths without spaces)
#   out     required  output file; *.svg gives SVG, anything else PNG (pngcairo)
#   titles  optional  space-separated legend entries (default: the file names)
#   xlabel  optional  default 'α' (use 't' for interpolation)
#   ylabel  optional  default 'loss'
#   logy    optional  '1' for a logarithmic y axis
#   title   optional  figure title
#
# Example:
#   gnuplot -e "files='grid-KD-loss.dat grid-TI-G-loss.dat'; titles='KD TI-G'; out='line.png'" landscape1d.gp

if (!exists("files")) { exit error "landscape1d.gp: set files='grid-A.dat grid-B.dat ...'" }
if (!exists("out")) { exit error "landscape1d.gp: set out='figure.png' or 'figure.svg'" }
if (!exists("titles")) { titles = files }
if (!exists("xlabel")) { xlabel = 'α' }
if (!exists("ylabel")) { ylabel = 'loss' }
n = words(files)

if (strlen(out) > 4 && out[strlen(out)-3:] eq '.svg') {
    set terminal svg size 640, 440 dynamic enhanced font 'DejaVu Sans,12' background rgb 'white'
} else {
    set terminal pngcairo size 640, 440 enhanced font 'DejaVu Sans,11' background rgb 'white'
}
set output out

if (exists("title")) { set title title }
if (exists("logy") && logy eq '1') { set logscale y }
set xlabel xlabel
set ylabel ylabel noenhanced
set grid lc rgb '#dddddd'
set key top center box opaque Left reverse width 1 noenhanced
set tics out nomirror
# The centre / start point (x = 0) is the trained checkpoint.
set arrow from 0, graph 0 to 0, graph 1 nohead dt 3 lc rgb '#888888'

# Diverged points (nan, ±inf) are left undefined instead of breaking autoscaling.
finite(v) = abs(v) < 1e300 ? v : NaN
plot for [i=1:n] word(files, i) using 1:(finite($2)) with linespoints pt 7 ps 0.5 lw 2 title word(titles, i)
