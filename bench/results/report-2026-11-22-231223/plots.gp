# Draws the report's figures from data/*.tsv: cd into this folder, then `gnuplot plots.gp`.
# Written by bench/run_all.sh; machine: 2 CPUs (AMD EPYC), 23.5 GiB memory, kernel Linux 6.18.44-fc-v595 x86_64.
set terminal pngcairo size 1100,650 font 'DejaVu Sans,10' noenhanced
set datafile separator "\t"
set datafile missing '?'
set grid ytics
set key outside right top
note = "2 CPUs (AMD EPYC), 23.5 GiB memory; load average at start 2.06; commit e6bfc63244; 2026-11-22 23:12 UTC"
set label 99 note at screen 0.01, screen 0.015 font ',8'
set bmargin 9

# Latency percentiles, one figure per benchmark (ms, log scale).
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set ylabel 'latency (ms)'
set xtics rotate by 25 right nomirror
set output 'latency-http.png'
set yrange [0.1:*]
set title "Latency percentiles: http (wrk, percentiles corrected for coordinated omission)"
plot 'data/latency-http.tsv' using 4:xtic(2) title 'p50', '' using 5 title 'p90', '' using 6 title 'p99', '' using 7 title 'max'
set output 'latency-login.png'
set yrange [0.1:*]
set title "Latency percentiles: login (wrk, percentiles corrected for coordinated omission)"
plot 'data/latency-login.tsv' using 4:xtic(2) title 'p50', '' using 5 title 'p90', '' using 6 title 'p99', '' using 7 title 'max'
set output 'latency-recordings.png'
set yrange [1:*]
set title "Latency percentiles: recordings (wrk, percentiles corrected for coordinated omission)"
plot 'data/latency-recordings.tsv' using 4:xtic(2) title 'p50', '' using 5 title 'p90', '' using 6 title 'p99', '' using 7 title 'max'
set output 'latency-inference.png'
set yrange [10:*]
set title "Latency percentiles: inference (tidemark_load: closed loop from the send, open loop from the scheduled time)"
plot 'data/latency-inference.tsv' using 4:xtic(2) title 'p50', '' using 5 title 'p90', '' using 6 title 'p99', '' using 7 title 'max'
set output 'latency-connections.png'
set yrange [10:*]
set title "Latency percentiles: connections (wrk, percentiles corrected for coordinated omission)"
plot 'data/latency-connections.tsv' using 4:xtic(2) title 'p50', '' using 5 title 'p90', '' using 6 title 'p99', '' using 7 title 'max'
unset logscale y
set yrange [*:*]
set xtics norotate
set style data linespoints

# Throughput and latency against concurrency.
set output 'throughput-vs-concurrency.png'
set bmargin 6
set multiplot layout 1,2 title "Throughput against concurrency (wrk, the stack's own API)"
set logscale x 2
set xlabel 'connections'
set ylabel 'requests/s'
set yrange [0:*]
set key inside top left
set title 'requests/s'
plot 'data/sweep-GET-events.tsv' using 2:3 title 'GET /events' lw 2 pt 7, 'data/sweep-POST-events-201.tsv' using 2:3 title 'POST /events (201)' lw 2 pt 7
set logscale y
set yrange [*:*]
set ylabel 'latency (ms)'
set title 'p50 (dashed) and p99 latency (ms, log scale)'
plot 'data/sweep-GET-events.tsv' using 2:6 title 'GET /events p99' lw 2 pt 7 lc 1, 'data/sweep-GET-events.tsv' using 2:4 title 'GET /events p50' lw 1 dt 2 pt 6 lc 1, 'data/sweep-POST-events-201.tsv' using 2:6 title 'POST /events (201) p99' lw 2 pt 7 lc 2, 'data/sweep-POST-events-201.tsv' using 2:4 title 'POST /events (201) p50' lw 1 dt 2 pt 6 lc 2
unset multiplot
unset logscale
set key outside right top

# Rebuild rate against log size.
set output 'rebuild-rate.png'
set title 'Rebuild rate against log size (goal: 100,000 events/s)'
set bmargin 6
set logscale x
set offsets graph 0.08, graph 0.08, 0, 0
set xlabel 'events in the log (log scale)'
set ylabel 'events/s'
set yrange [0:*]
set xtics ()
plot 'data/rebuild.tsv' using 1:2:xtic(1) title 'tidemark rebuild' lw 2 pt 7, '' using 1:4 title 'live projector' lw 2 pt 5, '' using 1:2:2 with labels offset 0,1 notitle, '' using 1:4:4 with labels offset 0,-1 notitle
unset logscale x
set offsets 0, 0, 0, 0

# Memory of the tidemark api process.
set output 'memory.png'
set title 'Resident memory of the tidemark api process (MiB)'
set style data histograms
set style fill solid 0.85 border -1
set xlabel ''
set ylabel 'RSS (MiB)'
set yrange [0:*]
set xtics rotate by 25 right nomirror
plot 'data/memory.tsv' using ($3/1024):xtic(1) notitle, '' using 0:($3/1024):(sprintf('%.1f', $3/1024)) with labels offset 0,0.7 notitle
