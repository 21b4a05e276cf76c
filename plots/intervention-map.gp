# Where the teacher intervention acts: layer × point (MI, CI, OI) heatmaps of the KD objective with
# the teacher's tensor substituted at one layer alone, each cell the ratio to no intervention, with
# its value printed. Panels: KD loss, top Hessian eigenvalue, last layer's output MSE vs the teacher.
#
# Input: tianalyze intervention-map's intervention-map.csv, header required, columns by name:
#     layer,point,loss,loss_relative,top_eigenvalue,top_eigenvalue_relative,output_mse,output_mse_relative,converged
#     none,none,0.93,1,12.1,1,0.004,1,1
#     0,MI,0.88,0.946,11.7,0.967,0.0037,0.925,1
#   The reference row (point none) is skipped.
#
# Variables (gnuplot -e "name='value'; ..."; all values are strings):
#   datafile  required  the CSV above
#   out       required  output file; *.svg gives SVG, anything else PNG (pngcairo)
#   title     optional  figure title
#
# Example:
#   gnuplot -e "datafile='intervention-map.csv'; out='map.png'" intervention-map.gp

if (!exists("datafile")) { exit error "intervention-map.gp: set datafile='intervention-map.csv'" }
if (!exists("out")) { exit error "intervention-map.gp: set out='figure.png' or 'figure.svg'" }

if (strlen(out) > 4 && out[strlen(out)-3:] eq '.svg') {
    set terminal svg size 1200, 420 dynamic enhanced font 'DejaVu Sans,12' background rgb 'white'
} else {
    set terminal pngcairo size 1200, 420 enhanced font 'DejaVu Sans,11' background rgb 'white'
}
set output out

set datafile separator comma
pointIndex(p) = (p eq 'MI' ? 0 : (p eq 'CI' ? 1 : (p eq 'OI' ? 2 : NaN)))
set ytics ('MI' 0, 'CI' 1, 'OI' 2) out nomirror
set xtics 1 out nomirror
set xlabel 'layer'
# One-column stats filter by the y range: take them before fixing it.
stats datafile using (pointIndex(strcol("point")) == pointIndex(strcol("point")) ? column("layer") : NaN) nooutput
firstLayer = STATS_min; lastLayer = STATS_max
set xrange [firstLayer - 0.5 : lastLayer + 0.5]
set yrange [-0.5:2.5]
set palette defined (0 '#2166ac', 1 '#f7f7f7', 2 '#b2182b')
set cbtics out
set style fill solid 1.0 noborder
unset key

set multiplot layout 1, 3 title (exists("title") ? title : 'ratio to no intervention') noenhanced
do for [q in "loss_relative top_eigenvalue_relative output_mse_relative"] {
    set title (q eq 'loss_relative' ? 'KD loss' : (q eq 'top_eigenvalue_relative' ? 'top Hessian eigenvalue' : 'last-layer output MSE'))
    # Centre the colour scale on 1 (no change): blue below, red above.
    set autoscale y
    stats datafile using (pointIndex(strcol("point")) == pointIndex(strcol("point")) ? abs(column(q) - 1) : NaN) nooutput
    set yrange [-0.5:2.5]
    r = (STATS_max > 0 ? STATS_max : 1)
    set cbrange [1 - r : 1 + r]
    plot datafile using (column("layer")):(pointIndex(strcol("point"))):(0.5):(0.5):(column(q)) with boxxyerror fc palette, \
         '' using (column("layer")):(pointIndex(strcol("point"))):(pointIndex(strcol("point")) == pointIndex(strcol("point")) ? sprintf('%.3f', column(q)) : '') \
            with labels font ',9'
}
unset multiplot
