# Curvature along QAT runs (`qat --track-curvature K`): the top Hessian eigenvalue (power iteration,
# with its error bound), the Lanczos extremes and the Hutchinson trace (± its standard error) on the
# fixed probe set against the iteration, with TI's step 1 (the intervention phase) shaded.
#
# Input: one CSV per run and objective, header required; columns are found by name:
#     step,phase,objective,lambda_max,lambda_max_err,lanczos_min,lanczos_max,trace,trace_se,seconds,start
#     0,1,task,17.55,0.006,-4.51,17.55,25.6,7.18,0.41,random
#   step            iterations done (a phase boundary has two rows: the end of one phase, the start of the next)
#   lambda_max      eigenvalue of largest magnitude (sign kept); lambda_max_err: an eigenvalue lies within it
#   lanczos_min     smallest algebraic eigenvalue (Lanczos), negative where the loss is not locally convex
#   trace, trace_se Hutchinson trace and its standard error
#
# Variables (gnuplot -e "name='value'; ..."; all values are strings):
#   files   required  space-separated CSV files (paths without spaces)
#   out     required  output file; *.svg gives SVG, anything else PNG (pngcairo)
#   titles  optional  legend entries (default: the file names); a title ending in '-train' is drawn
#                     dashed (the method's own training loss), others solid (the task loss)
#   colors  optional  space-separated line colour indices, one per file (a run's objectives share one)
#   step1   optional  iteration at which step 1 ends: [0, step1] is shaded
#   title   optional  figure title
#
# Example:
#   gnuplot -e "files='kd-task.csv tig-task.csv'; titles='KD-task TI-G-task'; step1='42'; out='curv.png'" curvature.gp

if (!exists("files")) { exit error "curvature.gp: set files='run1.csv run2.csv ...'" }
if (!exists("out")) { exit error "curvature.gp: set out='figure.png' or 'figure.svg'" }
if (!exists("titles")) { titles = files }
n = words(files)

if (strlen(out) > 4 && out[strlen(out)-3:] eq '.svg') {
    set terminal svg size 780, 960 dynamic enhanced font 'DejaVu Sans,12' background rgb 'white'
} else {
    set terminal pngcairo size 780, 960 enhanced font 'DejaVu Sans,11' background rgb 'white'
}
set output out
set datafile separator comma
set tics out nomirror
set grid lc rgb '#dddddd'
set key outside right top box opaque Left reverse width 1 noenhanced
set autoscale xfix

if (exists("step1")) {
    eval 's1 = ' . step1
    set object 1 rect from 0, graph 0 to s1, graph 1 fc rgb '#e8e8f4' fs solid 1.0 noborder behind
    set label 1 'step 1 (intervention)' at s1, graph 0.96 offset -0.5, 0 right textcolor rgb '#555577'
}
# Objective of a series from its title: the method's own loss dashed, the task loss solid.
isTrain(t) = (strlen(t) > 6 && t[strlen(t)-5:] eq '-train')
dash(i) = isTrain(word(titles, i)) ? 2 : 1
# Runs share a colour across their objectives (colors: one line colour index per file).
colourOf(i) = exists("colors") ? int(word(colors, i)) : i

set multiplot layout 3, 1 title (exists("title") ? title : '')
set ylabel 'top eigenvalue λ_{max}'
plot for [i=1:n] word(files, i) using (column("step")):(column("lambda_max")):(column("lambda_max_err")) \
        with yerrorlines lw 2 dt dash(i) lc colourOf(i) pt 7 ps 0.4 title word(titles, i)
set ylabel 'Lanczos λ_{min}'
unset label 1
plot for [i=1:n] word(files, i) using (column("step")):(column("lanczos_min")) \
        with linespoints lw 2 dt dash(i) lc colourOf(i) pt 7 ps 0.4 title word(titles, i)
set ylabel 'trace (Hutchinson ± s.e.)'
set xlabel 'iteration'
plot for [i=1:n] word(files, i) using (column("step")):(column("trace")):(column("trace_se")) \
        with yerrorlines lw 2 dt dash(i) lc colourOf(i) pt 7 ps 0.4 title word(titles, i)
unset multiplot
