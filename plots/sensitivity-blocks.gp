# Per-block quantization sensitivity from `tianalyze sensitivity`: top, the average Hessian trace
# Tr(H_b)/n_b of every quantized tensor with its standard error (HAWQ-V2's sensitivity); bottom, the
# bits the allocation gave each tensor (ternary drawn as 1.58, log2 3).
#
# Input CSV (header required; columns are found by name), as sensitivity writes it:
#   datafile  sensitivity.csv  block,kind,parameters,…,trace,trace_stderr,trace_per_param,…,allocated
#               kind             tensor (gets a precision) or group (a sub-block; not drawn here)
#               trace_per_param  Tr(H_b)/n_b
#               allocated        ternary, 2, 3, 4 or 8 (empty for groups)
#
# Variables (gnuplot -e "name='value'; ..."; all values are strings):
#   datafile  required  sensitivity.csv
#   out       required  output file; *.svg gives SVG, anything else PNG (pngcairo)
#   title     optional  figure title
#
# Example:
#   gnuplot -e "datafile='sensitivity.csv'; out='blocks.png'" sensitivity-blocks.gp

if (!exists("datafile")) { exit error "sensitivity-blocks.gp: set datafile='sensitivity.csv'" }
if (!exists("out")) { exit error "sensitivity-blocks.gp: set out='figure.png' or 'figure.svg'" }

if (strlen(out) > 4 && out[strlen(out)-3:] eq '.svg') {
    set terminal svg size 980, 720 dynamic enhanced font 'DejaVu Sans,12' background rgb 'white'
} else {
    set terminal pngcairo size 980, 720 enhanced font 'DejaVu Sans,11' background rgb 'white'
}
set output out
set datafile separator comma

# Tensor rows only, packed into a datablock so bars sit next to each other: x, Tr/n, stderr/n, bits, short name.
bits(a) = a eq 'ternary' ? log(3) / log(2) : real(a)
short(s) = (t = s[1:5] eq 'bert.' ? s[6:] : s, strlen(t) > 7 && t[strlen(t)-6:] eq '.weight' ? t[1:strlen(t)-7] : t)
stats datafile using (strcol("kind") eq 'tensor' ? 1 : 0) nooutput
if (STATS_sum == 0) { exit error "sensitivity-blocks.gp: no tensor rows in ".datafile }
set table $rows
plot datafile using (column("trace_per_param")):(column("trace_stderr") / column("parameters")):(bits(strcol("allocated"))):(strcol("block")) \
     with table if (strcol("kind") eq 'tensor')
unset table
set datafile separator tab
n = |$rows|

set multiplot layout 2, 1 margins 0.11, 0.97, 0.24, 0.93 spacing 0, 0.04
if (exists("title")) { set multiplot title title }
set xrange [-0.6 : n - 0.4]
set grid y lc rgb '#dddddd'
set ytics out nomirror
set style fill solid 0.75 border lc rgb '#333333'
set boxwidth 0.7
unset key
set format x ''
set xtics out nomirror 1
set ylabel 'Tr(H_b) / n_b'
plot $rows using 0:1 with boxes lc rgb '#3b528b', '' using 0:1:2 with yerrorbars pt -1 lc rgb 'black'

set format x '%g'
set ylabel 'allocated bits'
set yrange [0 : 8.8]
set ytics (1.58, 2, 3, 4, 8)
set xtics out nomirror rotate by -60 left noenhanced font ',7'
plot $rows using 0:3:xtic(short(strcol(4))) with boxes lc rgb '#5ec962'
unset multiplot
