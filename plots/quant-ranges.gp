# Quantizer ranges from `tianalyze quant-report` (issue 8): top, the calibrated range (hi − lo) of
# every hidden dimension at every activation site, which shows the structured outliers that motivate
# PEG (a few dimensions with ranges far above the rest, typically in the FFN residual sum); bottom,
# the signal-to-quantization-noise ratio of every site as bars.
#
# Input CSVs (headers required; columns are found by name), as quant-report writes them:
#   dims   quant-dims.csv   site,dim,lo,hi,range
#            site   activation site key, e.g. ffnResidual.1 (site name . layer)
#            dim    hidden dimension index
#            range  hi − lo of that dimension over the report batches
#   sites  quant-sites.csv  kind,name,quantizer,bits,lo,hi,sqnr_db,count
#            kind     weight or activation
#            sqnr_db  10·log10(Σx²/Σ(x − Q(x))²); 'inf' where the quantizer is exact (drawn as no bar)
#
# Variables (gnuplot -e "name='value'; ..."; all values are strings):
#   dims      required  quant-dims.csv
#   sites     required  quant-sites.csv
#   out       required  output file; *.svg gives SVG, anything else PNG (pngcairo)
#   site      optional  a site key of quant-dims.csv drawn as a highlighted line over all sites' points
#   kind      optional  which sites get SQNR bars: 'activation' (default), 'weight' or 'all'
#   logy      optional  '1' for a logarithmic range axis (outliers orders of magnitude above the rest)
#   title     optional  figure title
#
# Example:
#   gnuplot -e "dims='quant-dims.csv'; sites='quant-sites.csv'; site='ffnResidual.1'; out='q.png'" quant-ranges.gp

if (!exists("dims")) { exit error "quant-ranges.gp: set dims='quant-dims.csv'" }
if (!exists("sites")) { exit error "quant-ranges.gp: set sites='quant-sites.csv'" }
if (!exists("out")) { exit error "quant-ranges.gp: set out='figure.png' or 'figure.svg'" }
if (!exists("kind")) { kind = 'activation' }
if (kind ne 'activation' && kind ne 'weight' && kind ne 'all') { exit error "quant-ranges.gp: kind must be activation, weight or all" }

if (strlen(out) > 4 && out[strlen(out)-3:] eq '.svg') {
    set terminal svg size 900, 760 dynamic enhanced font 'DejaVu Sans,12' background rgb 'white'
} else {
    set terminal pngcairo size 900, 760 enhanced font 'DejaVu Sans,11' background rgb 'white'
}
set output out
set datafile separator comma

# A site selected by kind; 'inf' SQNR (exact quantizer) and rows of another kind give no bar.
keep(k) = kind eq 'all' || k eq kind
finite(v) = v == v && abs(v) < 1e300 ? v : NaN

stats dims using (column("dim")):(column("range")) nooutput
ndims = int(STATS_max_x) + 1
rmax = STATS_max_y
rmin = STATS_min_y

set multiplot layout 2, 1 margins 0.09, 0.97, 0.2, 0.93 spacing 0, 0.12
if (exists("title")) { set multiplot title title }

# Top: range per hidden dimension, every site a faint point; the selected site as a line.
set xlabel 'hidden dimension'
set ylabel 'activation range (hi − lo)'
set xrange [-0.5 : ndims - 0.5]
set xtics out nomirror
set ytics out nomirror
set grid y lc rgb '#dddddd'
if (exists("logy") && logy eq '1' && rmin > 0) {
    set logscale y
    set yrange [rmin / 1.5 : rmax * 1.5]
} else {
    set yrange [0 : rmax * 1.08]
}
set key top right noenhanced
if (exists("site")) {
    plot dims using (column("dim")):(column("range")) with points pt 7 ps 0.45 lc rgb '#9aa5b8' title 'all sites', \
         '' using (column("dim")):(strcol("site") eq site ? column("range") : NaN) with linespoints pt 7 ps 0.6 lw 1.5 lc rgb '#c0392b' title site
} else {
    plot dims using (column("dim")):(column("range")) with points pt 7 ps 0.45 lc rgb '#3b528b' title 'all sites'
}
unset logscale y

# Bottom: SQNR per site. The kept rows go into a datablock first, so that bars and tic labels are
# packed next to each other (NaN-filtered rows would leave gaps and stray tics).
keeprow = 'keep(strcol("kind")) && finite(column("sqnr_db")) == finite(column("sqnr_db"))'
set autoscale xy  # stats honours the current ranges: the top panel's would drop bars
stats sites using (@keeprow ? 1 : 0) nooutput
if (STATS_sum == 0) { exit error "quant-ranges.gp: no site of kind '".kind."' with a finite SQNR in ".sites }
# Bar count and value range from the CSV (the kept rows are those the datablock gets).
stats sites using (@keeprow ? finite(column("sqnr_db")) : NaN) nooutput
set table $bars
plot sites using (finite(column("sqnr_db"))):(strcol("name")) with table if (@keeprow)
unset table
set datafile separator whitespace
set xlabel ''
set ylabel 'SQNR (dB)'
set key off
set style fill solid 0.75 border lc rgb '#333333'
set boxwidth 0.7
set xtics out nomirror rotate by -60 left noenhanced font ',7'
set xrange [-0.6 : STATS_records - 0.4]
set yrange [(STATS_min < 0 ? STATS_min * 1.1 : 0) : STATS_max * 1.1]
plot $bars using 0:1:xtic(2) with boxes lc rgb '#3b528b'
unset multiplot
