# Training loss against iteration for several runs (paper Figs. 3c, 4a), with the end of the
# first stage (teacher intervention, "step 1") marked by a vertical line.
#
# Input: one CSV per run, header required; columns are found by name, others are ignored:
#     step,phase,lr,loss
#     0,1,2e-05,1.7321
#     10,1,2e-05,1.2034
#     ...
#   step   global training iteration (counting through both stages)
#   phase  1 or 2 (stage of the two-step schedule; informational)
#   loss   training loss logged at that step
#
# Variables (gnuplot -e "name='value'; ..."; all values are strings):
#   files   required  space-separated CSV files, one per run (paths without spaces)
#   out     required  output file; *.svg gives SVG, anything else PNG (pngcairo)
#   titles  optional  space-separated legend entries (default: the file names)
#   step1   optional  iteration at which step 1 ends (vertical dashed line)
#   ema     optional  smoothing factor in (0, 1], e.g. '0.05': draws an exponential moving average
#                     over a faint raw curve (noisy per-batch losses)
#   logy    optional  '1' for a logarithmic y axis
#   ylabel  optional  default 'training loss'
#   title   optional  figure title
#
# Example:
#   gnuplot -e "files='kd.csv ti.csv'; titles='KD TI-G'; step1='2000'; out='loss.png'" convergence-loss.gp

if (!exists("files")) { exit error "convergence-loss.gp: set files='run1.csv run2.csv ...'" }
if (!exists("out")) { exit error "convergence-loss.gp: set out='figure.png' or 'figure.svg'" }
if (!exists("titles")) { titles = files }
if (!exists("ylabel")) { ylabel = 'training loss' }
n = words(files)

if (strlen(out) > 4 && out[strlen(out)-3:] eq '.svg') {
    set terminal svg size 720, 440 dynamic enhanced font 'DejaVu Sans,12' background rgb 'white'
} else {
    set terminal pngcairo size 720, 440 enhanced font 'DejaVu Sans,11' background rgb 'white'
}
set output out

set datafile separator comma
if (exists("title")) { set title title }
if (exists("logy") && logy eq '1') { set logscale y }
set xlabel 'iteration'
set ylabel ylabel noenhanced
set tics out nomirror
set grid lc rgb '#dddddd'
set key top right box opaque Left reverse width 1 noenhanced

if (exists("step1")) {
    eval 's1 = ' . step1
    set arrow 1 from s1, graph 0 to s1, graph 1 nohead dt 2 lw 1.5 lc rgb '#555555'
    set label 1 'end of step 1' at s1, graph 0.97 offset 0.5, 0 left textcolor rgb '#555555'
}

if (exists("ema")) {
    eval 'a = 1.0 * (' . ema . ')'
    # Running average restarts at each file's first data row (column(0) == 0).
    plot for [i=1:n] word(files, i) using (column("step")):(column("loss")) with lines lw 0.6 lc i \
             notitle, \
         for [i=1:n] word(files, i) using (column("step")):(e = (column(0) == 0 ? column("loss") : a * column("loss") + (1 - a) * e)) \
             with lines lw 2.5 lc i title word(titles, i)
} else {
    plot for [i=1:n] word(files, i) using (column("step")):(column("loss")) with lines lw 2 lc i title word(titles, i)
}
