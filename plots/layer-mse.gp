# Per-layer error of the quantized student against the full-precision teacher (paper Figs. 2b, 4b):
# one line per training mode, x = transformer layer. Left panel: self-attention output MSE;
# right panel: layer output (hidden state) MSE.
#
# Input CSV (header required; columns are found by name, order does not matter):
#     layer,mode,attn_mse,out_mse
#     0,KD,0.0012,0.0100
#     0,TI-G,0.0009,0.0081
#     ...
#   layer     0-based transformer layer index (0 .. L-1)
#   mode      training mode name (KD, MI, CI, OI, TI-G, ...), no commas or spaces
#   attn_mse  mean squared error of the layer's self-attention output vs the teacher's
#   out_mse   mean squared error of the layer's output hidden states vs the teacher's
#   Rows may come in any order; a mode's points are joined in file order, so list each mode by layer.
#
# Variables (gnuplot -e "name='value'; ..."; all values are strings):
#   datafile  required  the CSV above
#   out       required  output file; *.svg gives SVG, anything else PNG (pngcairo)
#   modes     optional  space-separated modes to draw, in legend order (default 'KD MI CI OI')
#   logy      optional  '1' for logarithmic y axes
#   title     optional  figure title
#
# Example:
#   gnuplot -e "datafile='layer-mse.csv'; modes='KD TI-G'; out='layer-mse.png'" layer-mse.gp

if (!exists("datafile")) { exit error "layer-mse.gp: set datafile='layer-mse.csv'" }
if (!exists("out")) { exit error "layer-mse.gp: set out='figure.png' or 'figure.svg'" }
if (!exists("modes")) { modes = 'KD MI CI OI' }
n = words(modes)

if (strlen(out) > 4 && out[strlen(out)-3:] eq '.svg') {
    set terminal svg size 1000, 420 dynamic enhanced font 'DejaVu Sans,12' background rgb 'white'
} else {
    set terminal pngcairo size 1000, 420 enhanced font 'DejaVu Sans,11' background rgb 'white'
}
set output out

set datafile separator comma
# Rows of other modes evaluate to NaN; treating NaN as "missing" keeps each mode's line connected.
set datafile missing NaN
if (exists("logy") && logy eq '1') { set logscale y; set format y '10^{%L}' }
set xlabel 'layer'
set xtics 1 out nomirror
set ytics out nomirror
set grid lc rgb '#dddddd'
set key top left box opaque Left reverse width 1 noenhanced
set autoscale xfix
set offsets 0.3, 0.3, 0, 0

set multiplot layout 1, 2 title (exists("title") ? title : '')
set title 'self-attention output MSE'
set ylabel 'MSE vs teacher'
plot for [i=1:n] datafile using (column("layer")):(strcol("mode") eq word(modes, i) ? column("attn_mse") : NaN) \
    with linespoints pt (4 + 2 * i) ps 0.8 lw 2 title word(modes, i)
set title 'layer output MSE'
plot for [i=1:n] datafile using (column("layer")):(strcol("mode") eq word(modes, i) ? column("out_mse") : NaN) \
    with linespoints pt (4 + 2 * i) ps 0.8 lw 2 title word(modes, i)
unset multiplot
