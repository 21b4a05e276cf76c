# Weight oscillation along QAT (Nagel et al., ICML 2022), one line per run: three stacked panels
# against the training step, each the mean over the run's quantized weight tensors:
#   changed fraction       share of weights whose integer (ternary) state changed at the step
#   oscillation frequency  EMA of state changes that reverse the previous change
#   near-threshold share   share of weights within ε of a quantizer threshold
# TI's step 1 is shaded when step1 is given.
#
# Input: one CSV per run (tianalyze plot writes oscillation/osc-<run>.csv), header required,
# columns found by name:
#     step,phase,changed_fraction,oscillation_frequency,near_threshold_share
#     0,1,0,0,0.031
#     1,1,0.0012,0,0.030
#
# Variables (gnuplot -e "name='value'; ..."; all values are strings):
#   files   required  space-separated CSV files, one per run (paths without spaces)
#   out     required  output file; *.svg gives SVG, anything else PNG (pngcairo)
#   titles  optional  space-separated legend entries (default: the file names)
#   step1   optional  last step of TI's step 1 (shaded from 0 to it)
#   title   optional  figure title
#
# Example:
#   gnuplot -e "files='osc-KD.csv osc-TI-G.csv'; titles='KD TI-G'; step1='12'; out='osc.png'" oscillation.gp

if (!exists("files")) { exit error "oscillation.gp: set files='osc-KD.csv ...'" }
if (!exists("out")) { exit error "oscillation.gp: set out='figure.png' or 'figure.svg'" }
if (!exists("titles")) { titles = files }
n = words(files)

if (strlen(out) > 4 && out[strlen(out)-3:] eq '.svg') {
    set terminal svg size 760, 820 dynamic enhanced font 'DejaVu Sans,12' background rgb 'white'
} else {
    set terminal pngcairo size 760, 820 enhanced font 'DejaVu Sans,11' background rgb 'white'
}
set output out

set datafile separator comma
set tics out nomirror
set grid lc rgb '#dddddd'
set key top right box opaque Left reverse width 1 noenhanced
if (exists("step1")) {
    eval 's1 = ' . step1
    set object 1 rect from 0, graph 0 to s1, graph 1 behind fc rgb '#e8eef7' fs solid 1.0 noborder
    set label 1 'TI step 1' at s1, graph 0.95 right offset -0.5, 0 textcolor rgb '#4a6a9a'
}

set multiplot layout 3, 1 title (exists("title") ? title : '') noenhanced
set ylabel 'changed fraction'
plot for [i=1:n] word(files, i) using (column("step")):(column("changed_fraction")) with lines lw 1.5 lc i title word(titles, i)
unset label 1
set ylabel 'oscillation frequency'
plot for [i=1:n] word(files, i) using (column("step")):(column("oscillation_frequency")) with lines lw 2 lc i title word(titles, i)
set ylabel 'near-threshold share'
set xlabel 'iteration'
plot for [i=1:n] word(files, i) using (column("step")):(column("near_threshold_share")) with lines lw 1.5 lc i title word(titles, i)
unset multiplot
