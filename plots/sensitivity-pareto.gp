# The size/sensitivity trade-off from `tianalyze sensitivity`: the exact Pareto frontier of stored model
# size against Σ Ω (HAWQ-V2's objective, summed over the quantized tensors), every tensor at one
# precision as reference points, and the allocation chosen within the budget.
#
# Input CSVs (headers required; columns are found by name), as sensitivity writes them:
#   frontier  pareto.csv   bytes,megabytes,avg_bits,omega          one row per frontier point, ascending size
#   uniform   uniform.csv  precision,bytes,megabytes,omega,allocated_bytes,allocated_omega
#               one row per precision (every tensor at it); the allocated_* columns repeat the chosen point
#
# Variables (gnuplot -e "name='value'; ..."; all values are strings):
#   frontier  required  pareto.csv
#   uniform   required  uniform.csv
#   out       required  output file; *.svg gives SVG, anything else PNG (pngcairo)
#   title     optional  figure title
#
# Example:
#   gnuplot -e "frontier='pareto.csv'; uniform='uniform.csv'; out='pareto.png'" sensitivity-pareto.gp

if (!exists("frontier")) { exit error "sensitivity-pareto.gp: set frontier='pareto.csv'" }
if (!exists("uniform")) { exit error "sensitivity-pareto.gp: set uniform='uniform.csv'" }
if (!exists("out")) { exit error "sensitivity-pareto.gp: set out='figure.png' or 'figure.svg'" }

if (strlen(out) > 4 && out[strlen(out)-3:] eq '.svg') {
    set terminal svg size 760, 500 dynamic enhanced font 'DejaVu Sans,12' background rgb 'white'
} else {
    set terminal pngcairo size 760, 500 enhanced font 'DejaVu Sans,11' background rgb 'white'
}
set output out
set datafile separator comma
if (exists("title")) { set title title }

# Σ Ω spans orders of magnitude between ternary and 8 bits: log scale when every value is positive.
stats frontier using (column("omega")) nooutput
lo = STATS_min
stats uniform using (column("omega")) nooutput
if (lo > 0 && STATS_min > 0) { set logscale y; set format y '10^{%T}' }
set xlabel 'stored model size (MB)'
set ylabel 'Σ Ω = Σ_b Tr(H_b)/n_b · ‖Q_b(W) − W‖²'
set grid lc rgb '#dddddd'
set xtics out nomirror
set ytics out nomirror
set key top right noenhanced

plot frontier using (column("megabytes")):(column("omega")) with steps lw 2 lc rgb '#3b528b' title 'Pareto frontier (mixed)', \
     uniform using (column("megabytes")):(column("omega")) with points pt 7 ps 1.2 lc rgb '#c0392b' title 'uniform', \
     '' using (column("megabytes")):(column("omega")):(strcol("precision")) with labels offset 1.2, 0.6 font ',10' notitle, \
     '' every ::0::0 using (column("allocated_bytes") / 1e6):(column("allocated_omega")) with points pt 9 ps 2 lc rgb '#21918c' title 'allocation'
