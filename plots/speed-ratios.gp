# Bar chart of speed ratios (e.g. this implementation vs a peer implementation, or TI vs KD
# steps-to-target), with the parity line at 1 and each bar labelled with its value.
#
# Input CSV (header required; columns are found by name):
#     quantity,ratio
#     forward,1.8
#     backward,2.3
#     hvp,1.1
#   quantity  bar label (no commas; spaces are fine)
#   ratio     the ratio (> 1 means faster / better, by the caller's convention)
#
# Variables (gnuplot -e "name='value'; ..."; all values are strings):
#   datafile  required  the CSV above
#   out       required  output file; *.svg gives SVG, anything else PNG (pngcairo)
#   ylabel    optional  default 'speed ratio'
#   logy      optional  '1' for a logarithmic y axis (ratios spanning orders of magnitude)
#   title     optional  figure title
#
# Example:
#   gnuplot -e "datafile='speed-ratios.csv'; out='speed.png'" speed-ratios.gp

if (!exists("datafile")) { exit error "speed-ratios.gp: set datafile='speed-ratios.csv'" }
if (!exists("out")) { exit error "speed-ratios.gp: set out='figure.png' or 'figure.svg'" }
if (!exists("ylabel")) { ylabel = 'speed ratio' }

if (strlen(out) > 4 && out[strlen(out)-3:] eq '.svg') {
    set terminal svg size 720, 440 dynamic enhanced font 'DejaVu Sans,12' background rgb 'white'
} else {
    set terminal pngcairo size 720, 440 enhanced font 'DejaVu Sans,11' background rgb 'white'
}
set output out
set datafile separator comma

stats datafile using (column("ratio")) nooutput
if (exists("title")) { set title title }
if (exists("logy") && logy eq '1') {
    set logscale y
    set yrange [STATS_min < 1 ? STATS_min / 2 : 0.5 : STATS_max * 2]
} else {
    set yrange [0 : (STATS_max > 1 ? STATS_max : 1) * 1.15]
}
set ylabel ylabel
set style fill solid 0.75 border lc rgb '#333333'
set boxwidth 0.6
set xtics out nomirror rotate by -30 left noenhanced
set ytics out nomirror
set grid y lc rgb '#dddddd'
set xrange [-0.6 : STATS_records - 0.4]
unset key
# Parity: a ratio of 1 means no difference.
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 1.5 lc rgb 'black'

plot datafile using 0:(column("ratio")):xtic(strcol("quantity")) with boxes lc rgb '#3b528b', \
     '' using 0:(column("ratio")):(sprintf('%.2f×', column("ratio"))) with labels offset 0, 0.8 font ',10'
