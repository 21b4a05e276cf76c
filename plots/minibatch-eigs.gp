# Histograms of the top Hessian eigenvalue of the task loss on each training minibatch
# (`qat --track-minibatch-eigs STEPS`, the TI authors' Figure 5), one panel per phase of training
# (0: a one-phase run; 1 and 2: TI's step 1 with intervention and step 2), runs overlaid.
#
# Input: one CSV per run, header required; columns are found by name:
#     step,phase,lambda_max,iterations
#     1,1,153.2,12
#   step        the training step whose minibatch (at the parameters it started from) was analysed
#   phase       the phase of that step
#   lambda_max  eigenvalue of largest magnitude of that minibatch's loss Hessian (sign kept)
#
# Variables (gnuplot -e "name='value'; ..."; all values are strings):
#   files   required  space-separated CSV files, one per run (paths without spaces)
#   out     required  output file; *.svg gives SVG, anything else PNG (pngcairo)
#   titles  optional  legend entries (default: the file names)
#   phases  optional  space-separated phase numbers, one panel each (default '0 1 2')
#   bins    optional  number of bins spanning every run's values (default 20)
#   title   optional  figure title
#
# Example:
#   gnuplot -e "files='kd.csv tig.csv'; titles='KD TI-G'; phases='0 1 2'; out='mb.png'" minibatch-eigs.gp

if (!exists("files")) { exit error "minibatch-eigs.gp: set files='run1.csv run2.csv ...'" }
if (!exists("out")) { exit error "minibatch-eigs.gp: set out='figure.png' or 'figure.svg'" }
if (!exists("titles")) { titles = files }
if (!exists("phases")) { phases = '0 1 2' }
if (!exists("bins")) { bins = '20' }
n = words(files)
np = words(phases)
eval 'nb = int(' . bins . ')'

if (strlen(out) > 4 && out[strlen(out)-3:] eq '.svg') {
    set terminal svg size (380 * np + 120), 420 dynamic enhanced font 'DejaVu Sans,12' background rgb 'white'
} else {
    set terminal pngcairo size (380 * np + 120), 420 enhanced font 'DejaVu Sans,11' background rgb 'white'
}
set output out
set datafile separator comma

# Common bins over every run and phase, so bars compare directly.
lo = 1e308; hi = -1e308
do for [i=1:n] {
    stats word(files, i) using (column("lambda_max")) name "S" nooutput
    lo = (S_min < lo) ? S_min : lo
    hi = (S_max > hi) ? S_max : hi
}
w = (hi > lo) ? (hi - lo) / nb : 1
bin(x) = lo + w * (floor((x - lo) / w) + 0.5)

set style fill transparent solid 0.45 border
set tics out nomirror
set grid y lc rgb '#dddddd'
set key top right box opaque Left reverse width 1 noenhanced
set ylabel 'minibatches'
set xlabel 'top eigenvalue λ_{max}'
set yrange [0:*]
set offsets 0, 0, graph 0.08, 0
set boxwidth w absolute
set xrange [lo - w : hi + w]

set multiplot layout 1, np title (exists("title") ? title : '')
do for [p=1:np] {
    ph = word(phases, p)
    set title (ph eq '0' ? 'whole run' : (ph eq '1' ? 'step 1 (intervention)' : (ph eq '2' ? 'step 2' : 'phase ' . ph)))
    # Rows of other phases weigh 0, so each file is binned once per panel.
    plot for [i=1:n] word(files, i) using (bin(column("lambda_max"))):(sprintf("%d", column("phase")) eq ph ? 1 : 0) \
        smooth frequency with boxes lc i title word(titles, i)
}
unset multiplot
