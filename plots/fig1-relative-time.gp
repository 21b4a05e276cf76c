# Dev metric against fine-tuning iterations relative to the baseline's budget (paper Fig. 1, the
# "fewer iterations" headline): x = iteration / the baseline (KD) run's total iterations, so the
# baseline's curve ends at 1. For a target metric, each run's crossing is marked, and the legend
# gives where it happens on the x axis and the ratio of its iterations to the baseline's.
# The crossings are computed by tianalyze (fig1-relative-time.csv) and passed in as lists, so the
# figure shows the same numbers as the printed table.
#
# Input: one CSV per run, header required; columns are found by name, others are ignored:
#     step,phase,metric,relative_time
#     0,1,0.512,0
#     20,1,0.571,0.0125
#     ...
#   relative_time  iteration / the baseline's total iterations
#   metric         dev metric at that iteration (in the units of `teacher`)
#
# Variables (gnuplot -e "name='value'; ..."; all values are strings):
#   files       required  space-separated CSV files, one per run (paths without spaces)
#   out         required  output file; *.svg gives SVG, anything else PNG (pngcairo)
#   teacher     required  metric of the full-precision teacher (horizontal line)
#   target      required  the metric a run must reach (dashed horizontal line)
#   titles      optional  space-separated legend entries (default: the file names)
#   reach       optional  per file: relative time at which the run reaches the target, '-' if never
#   ratios      optional  per file: its iterations to the target / the baseline's, '-' if undefined
#   baseline    optional  name of the baseline run (default 'KD')
#   metricname  optional  y-axis label (default 'dev metric')
#   logx        optional  '1' for a logarithmic x axis (iteration 0 is left out)
#   title       optional  figure title
#
# Example:
#   gnuplot -e "files='kd.csv ti.csv'; titles='KD TI-G'; teacher='0.58'; target='0.574'; reach='0.75 0.09'; ratios='1 0.125'; out='fig1.png'" fig1-relative-time.gp

if (!exists("files")) { exit error "fig1-relative-time.gp: set files='run1.csv run2.csv ...'" }
if (!exists("out")) { exit error "fig1-relative-time.gp: set out='figure.png' or 'figure.svg'" }
if (!exists("teacher")) { exit error "fig1-relative-time.gp: set teacher='<FP teacher metric>'" }
if (!exists("target")) { exit error "fig1-relative-time.gp: set target='<metric to reach>'" }
if (!exists("titles")) { titles = files }
if (!exists("metricname")) { metricname = 'dev metric' }
if (!exists("baseline")) { baseline = 'KD' }
n = words(files)
if (exists("reach") && words(reach) != n) { exit error "fig1-relative-time.gp: reach needs one entry per file ('-' for not reached)" }
if (exists("ratios") && words(ratios) != n) { exit error "fig1-relative-time.gp: ratios needs one entry per file ('-' for none)" }
eval 'tm = ' . teacher
eval 'tg = ' . target
lx = exists("logx") && logx eq '1'

# Crossings as numbers; -1 marks "not reached" / "no ratio".
array at[n]
array ratio[n]
do for [i=1:n] {
    at[i] = -1
    ratio[i] = -1
    if (exists("reach") && word(reach, i) ne '-') { eval 'at[i] = 1.0 * ' . word(reach, i) }
    if (exists("ratios") && word(ratios, i) ne '-') { eval 'ratio[i] = 1.0 * ' . word(ratios, i) }
}
runtitle(i) = at[i] < 0 ? sprintf("%s: target not reached", word(titles, i)) : \
              ratio[i] < 0 ? sprintf("%s: target at %.3g", word(titles, i), at[i]) : \
              sprintf("%s: target at %.3g (%.3g× %s's iterations)", word(titles, i), at[i], ratio[i], baseline)

if (strlen(out) > 4 && out[strlen(out)-3:] eq '.svg') {
    set terminal svg size 760, 460 dynamic enhanced font 'DejaVu Sans,12' background rgb 'white'
} else {
    set terminal pngcairo size 760, 460 enhanced font 'DejaVu Sans,11' background rgb 'white'
}
set output out
set datafile separator comma

if (exists("title")) { set title title }
set xlabel sprintf("fine-tuning iterations relative to %s's budget", baseline) noenhanced
set ylabel metricname noenhanced
set tics out nomirror
set grid lc rgb '#dddddd'
set key bottom right box opaque Left reverse width 1 noenhanced
if (lx) { set logscale x }

set arrow 1 from graph 0, first tm to graph 1, first tm nohead dt 2 lw 1.5 lc rgb 'black'
set label 1 'FP teacher' at graph 0.01, first tm offset 0, 0.6 left
set arrow 2 from graph 0, first tg to graph 1, first tg nohead dt 3 lw 1 lc rgb '#777777'
set label 2 'target' at graph 0.01, first tg offset 0, -0.6 left textcolor rgb '#777777'
do for [i=1:n] {
    if (at[i] > 0 || (!lx && at[i] == 0)) {
        set arrow (10 + i) from at[i], graph 0 to at[i], first tg nohead dt 4 lw 1.5 lc i
    }
}

# On a log axis the row at iteration 0 has no place: NaN drops it.
xval(x) = (lx && x <= 0) ? NaN : x
plot for [i=1:n] word(files, i) using (xval(column("relative_time"))):(column("metric")) \
         with linespoints pt 7 ps 0.5 lw 2 lc i title runtitle(i)
