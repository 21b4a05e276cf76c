# Hessian eigenvalue spectral density (stochastic Lanczos quadrature) for several training modes
# on a logarithmic density axis, where the outliers that dominate sharpness are visible.
#
# Input: one CSV per mode, header required; columns are found by name:
#     x,density
#     -12.5,1.3e-07
#     -12.4,2.1e-07
#     ...
#   x        eigenvalue (grid point of the smoothed density)
#   density  estimated spectral density at x (≥ 0; zeros are skipped on the log axis)
#
# Variables (gnuplot -e "name='value'; ..."; all values are strings):
#   files   required  space-separated CSV files, one per mode (paths without spaces)
#   out     required  output file; *.svg gives SVG, anything else PNG (pngcairo)
#   titles  optional  space-separated legend entries (default: the file names)
#   ymin    optional  lower limit of the density axis (default 1e-8; the tail below is noise)
#   title   optional  figure title
#
# Example:
#   gnuplot -e "files='density-KD.csv density-TI-G.csv'; titles='KD TI-G'; out='density.png'" hessian-density.gp

if (!exists("files")) { exit error "hessian-density.gp: set files='density-A.csv density-B.csv ...'" }
if (!exists("out")) { exit error "hessian-density.gp: set out='figure.png' or 'figure.svg'" }
if (!exists("titles")) { titles = files }
if (!exists("ymin")) { ymin = '1e-8' }
n = words(files)

if (strlen(out) > 4 && out[strlen(out)-3:] eq '.svg') {
    set terminal svg size 720, 440 dynamic enhanced font 'DejaVu Sans,12' background rgb 'white'
} else {
    set terminal pngcairo size 720, 440 enhanced font 'DejaVu Sans,11' background rgb 'white'
}
set output out
set datafile separator comma
set datafile missing NaN

if (exists("title")) { set title title }
set logscale y
set format y '10^{%L}'
# Numbers arrive as strings; eval parses them as gnuplot literals ("1e-8" included).
eval 'ylo = ' . ymin
set yrange [ylo:*]
set xlabel 'eigenvalue'
set ylabel 'density (log scale)'
set tics out nomirror
set grid lc rgb '#dddddd'
set key top right box opaque Left reverse width 1 noenhanced

plot for [i=1:n] word(files, i) using (column("x")):(column("density") > 0 ? column("density") : NaN) \
    with lines lw 2 lc i title word(titles, i)
