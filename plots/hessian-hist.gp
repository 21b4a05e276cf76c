# Histograms of per-example extreme Hessian eigenvalues for two (or more) training modes
# (paper Fig. 5, KD vs TI-G): left panel the largest positive eigenvalue, right panel the most
# negative one. A flatter, better-conditioned minimum shifts both towards zero.
#
# Input CSV (header required; columns are found by name, order does not matter):
#     mode,example,lambda_pos,lambda_neg
#     KD,0,153.2,-12.7
#     TI-G,0,41.9,-3.1
#     ...
#   mode        training mode name, no commas or spaces
#   example     index of the input example whose loss Hessian was analysed (informational)
#   lambda_pos  largest (most positive) eigenvalue of that example's loss Hessian
#   lambda_neg  most negative eigenvalue of that example's loss Hessian (≤ 0)
#
# Variables (gnuplot -e "name='value'; ..."; all values are strings):
#   datafile  required  the CSV above
#   out       required  output file; *.svg gives SVG, anything else PNG (pngcairo)
#   modes     optional  space-separated modes to compare (default 'KD TI-G')
#   bins      optional  number of bins spanning all modes' values (default 30)
#   title     optional  figure title
#
# Example:
#   gnuplot -e "datafile='hessian-eigs.csv'; out='hessian-hist.png'" hessian-hist.gp

if (!exists("datafile")) { exit error "hessian-hist.gp: set datafile='hessian-eigs.csv'" }
if (!exists("out")) { exit error "hessian-hist.gp: set out='figure.png' or 'figure.svg'" }
if (!exists("modes")) { modes = 'KD TI-G' }
if (!exists("bins")) { bins = '30' }
n = words(modes)
eval 'nb = int(' . bins . ')'

if (strlen(out) > 4 && out[strlen(out)-3:] eq '.svg') {
    set terminal svg size 1000, 420 dynamic enhanced font 'DejaVu Sans,12' background rgb 'white'
} else {
    set terminal pngcairo size 1000, 420 enhanced font 'DejaVu Sans,11' background rgb 'white'
}
set output out
set datafile separator comma

# Common bins for all modes in a panel, so the bars are directly comparable.
stats datafile using (column("lambda_pos")) name "P" nooutput
stats datafile using (column("lambda_neg")) name "N" nooutput
pw = (P_max > P_min) ? (P_max - P_min) / nb : 1
nw = (N_max > N_min) ? (N_max - N_min) / nb : 1
pbin(x) = P_min + pw * (floor((x - P_min) / pw) + 0.5)
nbin(x) = N_min + nw * (floor((x - N_min) / nw) + 0.5)

set style fill transparent solid 0.45 border
set tics out nomirror
set grid y lc rgb '#dddddd'
set key top right box opaque Left reverse width 1 noenhanced
set ylabel 'examples'
set yrange [0:*]
# Headroom so the tallest bar does not touch the frame.
set offsets 0, 0, graph 0.08, 0

set multiplot layout 1, 2 title (exists("title") ? title : '')
set title 'largest positive eigenvalue'
set xlabel 'λ_{max}'
set boxwidth pw absolute
# Rows of other modes contribute weight 0, so every mode is binned from the same file.
plot for [i=1:n] datafile using (pbin(column("lambda_pos"))):(strcol("mode") eq word(modes, i) ? 1 : 0) \
    smooth frequency with boxes lc i title word(modes, i)
set title 'most negative eigenvalue'
set xlabel 'λ_{min}'
set boxwidth nw absolute
set key top left
plot for [i=1:n] datafile using (nbin(column("lambda_neg"))):(strcol("mode") eq word(modes, i) ? 1 : 0) \
    smooth frequency with boxes lc i title word(modes, i)
unset multiplot
