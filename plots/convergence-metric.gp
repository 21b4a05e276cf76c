# Dev-set metric against iteration for several runs (paper Figs. 3c, 4a) with the full-precision
# teacher's metric as a horizontal line. The number of iterations each run needs to reach the
# target (default: the teacher's metric) is computed here and shown in the legend and as a
# dashed marker, so convergence speed can be read off directly. Step-1 evaluations made with the
# intervention active (the seeds' step-1 evaluation) can be overlaid as dashed series.
#
# Input: one CSV per run, header required; columns are found by name, others are ignored:
#     step,phase,metric
#     0,1,0.512
#     500,1,0.634
#     ...
#   step    global training iteration at which the dev set was evaluated
#   metric  dev metric at that step (accuracy, F1, Matthews corr., ... in the units of `teacher`)
#
# Variables (gnuplot -e "name='value'; ..."; all values are strings):
#   files       required  space-separated CSV files, one per run (paths without spaces)
#   out         required  output file; *.svg gives SVG, anything else PNG (pngcairo)
#   teacher     required  metric of the full-precision teacher (horizontal line)
#   titles      optional  space-separated legend entries (default: the file names)
#   target      optional  metric a run must reach to count as converged (default: teacher)
#   step1       optional  iteration at which step 1 ends (vertical dashed line)
#   metricname  optional  y-axis label (default 'dev metric')
#   title       optional  figure title
#   step1files  optional  space-separated CSVs of step-1 evaluations with the intervention active
#                         (columns `step`, `metric`), drawn dashed and not counted for the target
#   step1titles optional  their legend entries (default: the file names)
#   step1colors optional  their colours as indices of `files` (default 1 2 ...), so a run's step-1
#                         series has the run's colour
#
# Example:
#   gnuplot -e "files='kd.csv ti.csv'; titles='KD TI-G'; teacher='0.66'; target='0.64'; out='metric.png'" convergence-metric.gp

if (!exists("files")) { exit error "convergence-metric.gp: set files='run1.csv run2.csv ...'" }
if (!exists("out")) { exit error "convergence-metric.gp: set out='figure.png' or 'figure.svg'" }
if (!exists("teacher")) { exit error "convergence-metric.gp: set teacher='<FP teacher metric>'" }
if (!exists("titles")) { titles = files }
if (!exists("metricname")) { metricname = 'dev metric' }
n = words(files)
# Numbers arrive as strings; eval parses them as gnuplot literals ("1e-3" included).
eval 'tm = ' . teacher
tg = tm
if (exists("target")) { eval 'tg = ' . target }

if (strlen(out) > 4 && out[strlen(out)-3:] eq '.svg') {
    set terminal svg size 720, 440 dynamic enhanced font 'DejaVu Sans,12' background rgb 'white'
} else {
    set terminal pngcairo size 720, 440 enhanced font 'DejaVu Sans,11' background rgb 'white'
}
set output out
set datafile separator comma

# First step at which each run reaches the target; 1e30 marks "never" (stats on an all-NaN
# column would abort the script).
array reach[n]
do for [i=1:n] {
    stats word(files, i) using (column("metric") >= tg ? column("step") : 1e30) nooutput
    reach[i] = STATS_min
}
runtitle(i) = reach[i] < 1e30 ? sprintf("%s: %d steps to target", word(titles, i), reach[i]) \
                              : sprintf("%s: target not reached", word(titles, i))

if (exists("title")) { set title title }
set xlabel 'iteration'
set ylabel metricname noenhanced
set tics out nomirror
set grid lc rgb '#dddddd'
set key bottom right box opaque Left reverse width 1 noenhanced

set arrow 1 from graph 0, first tm to graph 1, first tm nohead dt 2 lw 1.5 lc rgb 'black'
set label 1 'FP teacher' at graph 0.01, first tm offset 0, 0.6 left
if (tg != tm) {
    set arrow 2 from graph 0, first tg to graph 1, first tg nohead dt 3 lw 1 lc rgb '#777777'
    set label 2 'target' at graph 0.01, first tg offset 0, -0.6 left textcolor rgb '#777777'
}
if (exists("step1")) {
    eval 's1 = ' . step1
    set arrow 3 from s1, graph 0 to s1, graph 1 nohead dt 2 lw 1 lc rgb '#555555'
    set label 3 'end of step 1' at s1, graph 0.5 offset -0.8, 0 center rotate by 90 textcolor rgb '#555555'
}
do for [i=1:n] {
    if (reach[i] < 1e30) {
        set arrow (10 + i) from reach[i], graph 0 to reach[i], first tg nohead dt 4 lw 1.5 lc i
    }
}

if (exists("step1files")) {
    m = words(step1files)
    if (!exists("step1titles")) { step1titles = step1files }
    if (!exists("step1colors")) { step1colors = ''; do for [j=1:m] { step1colors = step1colors . sprintf(' %d', j) } }
    if (words(step1titles) != m || words(step1colors) != m) { exit error "convergence-metric.gp: step1titles and step1colors need one entry per step1files entry" }
    plot for [i=1:n] word(files, i) using (column("step")):(column("metric")) with linespoints pt 7 ps 0.5 lw 2 lc i \
             title runtitle(i), \
         for [j=1:m] word(step1files, j) using (column("step")):(column("metric")) with linespoints dt 2 pt 6 ps 0.6 lw 1.5 \
             lc int(word(step1colors, j)) title word(step1titles, j)
} else {
    plot for [i=1:n] word(files, i) using (column("step")):(column("metric")) with linespoints pt 7 ps 0.5 lw 2 lc i \
             title runtitle(i)
}
