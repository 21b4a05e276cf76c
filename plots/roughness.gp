# Roughness of loss surfaces as numbers: one panel per metric, one bar per mode at the mean over
# the direction seeds, with its 95 % interval as an error bar (no bar when there was one seed).
#
# Input: `roughness-bars.dat` written by `tianalyze landscape`, one gnuplot block per metric
# (blocks separated by two blank lines, in the order of `metrics`):
#     mode mean low high
#
# Variables (gnuplot -e "name='value'; ..."; all values are strings):
#   data     required  the roughness-bars.dat file
#   out      required  output file; *.svg gives SVG, anything else PNG (pngcairo)
#   metrics  optional  block titles (default: laplacian total_variation local_minima sharpness residual_share)
#   title    optional  figure title
#
# Example:
#   gnuplot -e "data='roughness-bars.dat'; out='roughness.png'" roughness.gp

if (!exists("data")) { exit error "roughness.gp: set data='roughness-bars.dat'" }
if (!exists("out")) { exit error "roughness.gp: set out='figure.png' or 'figure.svg'" }
if (!exists("metrics")) { metrics = 'laplacian total_variation local_minima sharpness residual_share' }
n = words(metrics)

width = 300 * n
if (strlen(out) > 4 && out[strlen(out)-3:] eq '.svg') {
    set terminal svg size width, 420 dynamic enhanced font 'DejaVu Sans,12' background rgb 'white'
} else {
    set terminal pngcairo size width, 420 enhanced font 'DejaVu Sans,11' background rgb 'white'
}
set output out

set style fill solid 0.6 border lc rgb '#333333'
set boxwidth 0.6
set grid ytics lc rgb '#dddddd'
set tics out nomirror
set xtics rotate by -30 noenhanced
unset key
set yrange [0:*]
set offsets 0.5, 0.5, 0, 0
set multiplot layout 1, n title (exists("title") ? title : '')
do for [k=1:n] {
    set title word(metrics, k) noenhanced
    plot data index (k - 1) using 0:2:xtic(1) with boxes lc rgb '#21918c', \
         '' index (k - 1) using 0:2:3:4 with yerrorbars lc rgb '#202020' pt 7 ps 0 lw 1.5
}
unset multiplot
