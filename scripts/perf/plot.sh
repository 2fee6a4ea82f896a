#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The performance suite's plots: PNGs (900x500, gnuplot) of a run's results
# and of the ring engine microbenchmark, the data behind each one, and a
# plain summary of the medians drawn.
#
# usage: plot.sh RESULTS.csv ENGINE.csv OUTDIR
#        plot.sh -h | --help
# Environment: PLOT_WHERE (rig, the default, or host): whose runs are drawn.
#
# RESULTS.csv: a header line, then a row per run; plain comma-separated
# values (no quoting), columns found by name, extra columns ignored. Read:
#   mode (guest-less|guest), where (rig|host),
#   backend (kmod|vhost-net|thread|inline), frame_size, batch,
#   event_idx (1|0), queue_pairs, round, frames, frames_per_s,
#   device_us_per_frame, guest_us_per_frame, exits_per_frame,
#   irqs_per_frame, erms (on|off)
# An empty field is "not available": that point is left out (a row with
# an empty mode, where, backend, frame_size, batch, event_idx or
# queue_pairs fits no group and is left out with a warning). A group is
# the rows of one mode, where, backend, frame_size, batch, event_idx and
# queue_pairs; its rounds give the median, min and max of each metric
# (erms is not part of the group: a group that mixes on and off is
# warned about).
# ENGINE.csv: `vnl_bench --csv`: frame_size, batch, engine_ns_per_frame,
# pct_of_memcpy (medians when a point appears more than once).
#
# OUTDIR gets (selection: where=PLOT_WHERE, by default rig; event_idx=1,
# queue_pairs=1):
#   us-per-frame.png         guest + device us/frame, stacked, per backend
#                            and frame size; mode=guest, batch=32 (a panel
#                            per frame size when they differ 10x or more)
#   device-us-per-frame.png  device us/frame, median and min..max, per
#                            backend and frame size; batch=32, a panel per
#                            mode
#   fps-vs-batch.png         frames/s against batch; mode=guest, 64 B
#   exits-irqs-vs-batch.png  exits/frame and irqs/frame against batch;
#                            mode=guest, 64 B
#   engine.png               ENGINE.csv: engine ns/frame and % of memcpy
#                            against frame size, a line per batch
#   *.dat, *.gp              each plot's data and gnuplot script;
#                            groups.dat every group of RESULTS.csv
#   summary.txt              the medians plotted and, per mode, the ratios
#                            kmod/vhost-net and kmod/thread of the median
#                            device us/frame at 64 B, batch 32
# A plot whose selection has no data is still drawn, saying "no data", and
# named on stderr.
#
# Exit status: 0 done; 1 gnuplot missing (Debian: gnuplot-nox) or failed;
# 2 bad usage, or a CSV missing, unreadable, without a needed column or
# with a bad value (the message names the file, line and column).
set -uo pipefail
export LC_ALL=C

me=plot.sh
backends_order="kmod vhost-net thread inline"

usage() {
	sed -n '2,/^set -uo/{/^set -uo/d;/^# SPDX/d;s/^# \{0,1\}//;p}' "$0"
}
die() { # STATUS MESSAGE
	echo "$me: $2" >&2
	exit "$1"
}

case ${1:-} in
-h | --help) usage; exit 0 ;;
esac
if [ $# -ne 3 ]; then
	usage >&2
	exit 2
fi
results=$1 engine=$2 outdir=$3
where=${PLOT_WHERE:-rig}
case $where in
rig | host) ;;
*) die 2 "PLOT_WHERE=$where: rig or host" ;;
esac
case $outdir in
*[\'\"]*) die 2 "$outdir: OUTDIR with a quote in its name (gnuplot's scripts quote it)" ;;
esac

for f in "$results" "$engine"; do
	if [ ! -f "$f" ] || [ ! -r "$f" ]; then
		die 2 "$f: no such readable file"
	fi
	[ -s "$f" ] || die 2 "$f: empty, no header line"
done

# csv_columns FILE "NAME..." "NUMERIC..." "ENUM_SPEC": FILE's columns NAME,
# in that order, tab-separated, without the header. NUMERIC columns must be
# empty or numbers; ENUM_SPEC is "name=a|b name2=c|d": empty or one of
# those. A repeat of the header line (concatenated files) is skipped.
csv_columns() {
	awk -F, -v file="$1" -v want="$2" -v nums="$3" -v enums="$4" '
	function trim(s) {
		sub(/\r$/, "", s)
		gsub(/^[ \t]+|[ \t]+$/, "", s)
		return s
	}
	function bad(msg) {
		printf "plot.sh: %s: %s\n", file, msg > "/dev/stderr"
		failed = 1
		exit 2
	}
	BEGIN {
		nw = split(want, w, " ")
		nn = split(nums, t, " ")
		for (i = 1; i <= nn; i++)
			isnum[t[i]] = 1
		ne = split(enums, t, " ")
		for (i = 1; i <= ne; i++) {
			split(t[i], kv, "=")
			allowed[kv[1]] = "|" kv[2] "|"
		}
	}
	{ sub(/\r$/, "") }
	NR == 1 {
		header = $0
		hf = NF
		for (i = 1; i <= NF; i++)
			col[trim($i)] = i
		for (i = 1; i <= nw; i++)
			if (!(w[i] in col))
				bad("no column \"" w[i] "\" in the header line")
		next
	}
	/^[ \t]*$/ || $0 == header { next }
	{
		if (NF != hf)
			bad("line " NR ": " NF " fields, the header has " hf)
		out = ""
		for (i = 1; i <= nw; i++) {
			v = trim($(col[w[i]]))
			if (v != "" && (w[i] in isnum) &&
			    v !~ /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/)
				bad("line " NR ": column \"" w[i] "\": \"" v "\" is not a number")
			if (v != "" && (w[i] in allowed) &&
			    index(allowed[w[i]], "|" v "|") == 0)
				bad("line " NR ": column \"" w[i] "\": \"" v "\" is not one of " substr(allowed[w[i]], 2, length(allowed[w[i]]) - 2))
			out = out (i > 1 ? "\t" : "") v
		}
		print out
		rows++
	}
	END {
		if (!failed && !rows)
			printf "plot.sh: %s: no data rows\n", file > "/dev/stderr"
	}' "$1"
}

r_cols="mode where backend frame_size batch event_idx queue_pairs round
frames frames_per_s device_us_per_frame guest_us_per_frame exits_per_frame
irqs_per_frame erms"
r_nums="frame_size batch event_idx queue_pairs round frames frames_per_s
device_us_per_frame guest_us_per_frame exits_per_frame irqs_per_frame"
r_enums="mode=guest-less|guest where=rig|host
backend=kmod|vhost-net|thread|inline event_idx=0|1 erms=on|off"
e_cols="frame_size batch engine_ns_per_frame pct_of_memcpy"

tmp=$(mktemp -d) || die 1 "mktemp failed"
trap 'rm -rf "$tmp"' EXIT
csv_columns "$results" "$r_cols" "$r_nums" "$r_enums" >"$tmp/results.tsv" ||
	exit 2
csv_columns "$engine" "$e_cols" "$e_cols" "" >"$tmp/engine.tsv" || exit 2

command -v gnuplot >/dev/null ||
	die 1 "gnuplot not found: install the Debian package gnuplot-nox (scripts/deps.sh does)"
mkdir -p "$outdir" || die 2 "$outdir: cannot create the directory"
# absolute, so that the .gp scripts left there run from anywhere
outdir=$(cd "$outdir" && pwd) || die 2 "$outdir: cannot enter the directory"

# ---- aggregation -----------------------------------------------------------

# The median, min and max of a list of values, "NaN NaN NaN" for none.
awk_stats='
function stats(list,    v, n, i, j, x, med) {
	n = split(list, v, " ")
	if (n == 0)
		return "NaN NaN NaN"
	for (i = 2; i <= n; i++) {
		x = v[i] + 0
		for (j = i - 1; j >= 1 && v[j] + 0 > x; j--)
			v[j + 1] = v[j]
		v[j + 1] = x
	}
	med = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	return sprintf("%.6g %.6g %.6g", med, v[1], v[n])
}'


# groups.dat: every group of RESULTS.csv, a line each, sorted by mode
# (guest-less, guest), where, backend (kmod, vhost-net, thread, inline),
# frame_size, batch,
# event_idx and queue_pairs. Columns: see its first line.
groups=$outdir/groups.dat
{
	echo "# mode where backend frame_size batch event_idx queue_pairs rows erms" \
		"device_med device_min device_max guest_med guest_min guest_max" \
		"fps_med fps_min fps_max exits_med exits_min exits_max" \
		"irqs_med irqs_min irqs_max"
	awk -F'\t' -v order="$backends_order" -v file="$results" "$awk_stats"'
	BEGIN {
		nb = split(order, b, " ")
		for (i = 1; i <= nb; i++)
			rank[b[i]] = i
		# results.tsv columns of device, guest, fps, exits, irqs
		split("11 12 10 13 14", mcol, " ")
	}
	{
		for (i = 1; i <= 7; i++)
			if ($i == "") {
				skipped++
				next
			}
		key = $1 " " $2 " " $3 " " ($4 + 0) " " ($5 + 0) " " \
		      ($6 + 0) " " ($7 + 0)
		if (!(key in rows)) {
			keys[++nk] = key
			rk[key] = rank[$3]
		}
		rows[key]++
		for (m = 1; m <= 5; m++)
			if ($mcol[m] != "")
				vals[key, m] = vals[key, m] " " $mcol[m]
		if ($15 != "") {
			# (the test first: an assignment creates its element)
			e = (key in erms) && erms[key] != $15 ? "mixed" : $15
			erms[key] = e
		}
	}
	END {
		if (mixed > 1)
			printf "plot.sh: warning: %s: %d groups in all mix erms=on and erms=off\n", file, mixed > "/dev/stderr"
		if (skipped)
			printf "plot.sh: %s: %d row(s) with an empty mode, where, backend, frame_size, batch, event_idx or queue_pairs left out\n", file, skipped > "/dev/stderr"
		for (k = 1; k <= nk; k++) {
			key = keys[k]
			e = key in erms ? erms[key] : "-"
			if (e == "mixed" && !mixed++)
				printf "plot.sh: warning: %s: the group %s mixes erms=on and erms=off rows (erms \"mixed\" in groups.dat)\n", file, key > "/dev/stderr"
			# sort keys: guest-less before guest, backends_order
			line = (key ~ /^guest-less/ ? 0 : 1) " " rk[key] " " key " " rows[key] " " e
			for (m = 1; m <= 5; m++)
				line = line " " stats(vals[key, m])
			print line
		}
	}' "$tmp/results.tsv" |
		sort -k1,1n -k4,4 -k2,2n -k6,6n -k7,7n -k8,8n -k9,9n |
		cut -d' ' -f3-
} >"$groups" || die 1 "$groups: cannot write"

# The groups of the plots: where=$where, event_idx=1, queue_pairs=1.
sel() { # AWK-CONDITION
	awk -v w="$where" '!/^#/ && $2 == w && $6 == 1 && $7 == 1' "$groups" |
		awk "$1"
}

# ---- gnuplot ---------------------------------------------------------------

# (the list read whole: grep -q's early exit would fail the pipe)
terms=$(gnuplot -e 'set terminal' 2>&1)
if grep -qw pngcairo <<<"$terms"; then
	term="set terminal pngcairo size 900,500 noenhanced font 'Sans,10'"
	us="µs"
else
	term="set terminal png size 900,500 noenhanced"
	us="us"
fi
# Backend colours, the same in every plot; device and guest in the bars.
declare -A colour=([kmod]='#0072b2' [vhost-net]='#d55e00'
	[thread]='#009e73' [inline]='#cc79a7')
c_dev='#0072b2' c_guest='#e69f00'

# gp NAME: run OUTDIR/NAME.gp (standard input) into OUTDIR/NAME.png.
gp() {
	local name=$1
	{
		echo "$term"
		echo "set output '$outdir/$name.png'"
		cat
		echo "unset multiplot"
		echo "unset output"
	} >"$outdir/$name.gp"
	gnuplot "$outdir/$name.gp" >"$tmp/gp.log" 2>&1
	local rc=$?
	if [ "$rc" -ne 0 ] || [ ! -s "$outdir/$name.png" ]; then
		sed "s/^/$me: gnuplot: /" "$tmp/gp.log" >&2
		die 1 "gnuplot failed on $outdir/$name.gp"
	fi
}

# nodata TITLE WHAT: gnuplot commands for a panel that says "no data";
# says so on stderr too, WHAT naming the plot and its selection.
nodata() {
	echo "$me: $2: no data, the plot says so" >&2
	cat <<-GP
	set title "$1"
	unset key
	unset xtics
	unset ytics
	set xrange [0:1]
	set yrange [0:1]
	set label 1 "no data" at graph 0.5, graph 0.5 center font ',16'
	plot 2 notitle
	unset label 1
	GP
}

# gnuplot's list of tics at the values of a space-separated list.
tics() {
	local v out=
	for v in $1; do
		out="$out${out:+, }\"$v\" $v"
	done
	echo "($out)"
}

# ---- a: guest + device us/frame, stacked ----------------------------------

what="us-per-frame.png (mode=guest, where=$where, batch 32, event_idx 1, 1 pair)"
title="$us per frame, guest + device (mode=guest, where=$where, batch 32, event_idx 1, 1 pair)"
# shellcheck disable=SC2016 # an awk condition
sel '$1 == "guest" && $5 == 32 && ($10 != "NaN" || $13 != "NaN")' |
	awk -v order="$backends_order" '
	{
		if (!($3 in hasb))
			hasb[$3] = 1
		if (!(($4 + 0) in hass)) {
			hass[$4 + 0] = 1
			sizes[++ns] = $4 + 0
		}
		d = $10 == "NaN" ? 0 : $10
		g = $13 == "NaN" ? 0 : $13
		dev[$3, $4 + 0] = $10
		gst[$3, $4 + 0] = $13
		tot[$3, $4 + 0] = d + g
	}
	END {
		n = split(order, o, " ")
		for (i = 1; i <= n; i++)
			if (o[i] in hasb)
				bk[++nb] = o[i]
		# sizes in increasing order (few: insertion sort)
		for (i = 2; i <= ns; i++)
			for (j = i; j > 1 && sizes[j - 1] > sizes[j]; j--) {
				t = sizes[j]; sizes[j] = sizes[j - 1]; sizes[j - 1] = t
			}
		print "# frame_size backend x panel_x device_med guest_med total"
		for (s = 1; s <= ns; s++) {
			top[s] = 0
			for (b = 1; b <= nb; b++) {
				k = bk[b] SUBSEP sizes[s]
				if (!(k in tot))
					continue
				printf "%d %s %d %d %s %s %.6g\n", sizes[s], bk[b],
				       (s - 1) * (nb + 1) + b - 1, b - 1, dev[k], gst[k], tot[k]
				if (tot[k] > top[s])
					top[s] = tot[k]
			}
		}
		lo = hi = top[1]
		for (s = 2; s <= ns; s++) {
			if (top[s] < lo) lo = top[s]
			if (top[s] > hi) hi = top[s]
		}
		list = ""
		for (b = 1; b <= nb; b++)
			list = list (b > 1 ? " " : "") bk[b]
		slist = ""
		for (s = 1; s <= ns; s++)
			slist = slist (s > 1 ? " " : "") sizes[s]
		# one panel per size when the tallest bars differ 10x or more
		print "#meta " nb " " (ns > 1 && lo > 0 && hi / lo >= 10) " " list " | " slist
	}' >"$tmp/a.dat"
grep -v '^#meta' "$tmp/a.dat" >"$outdir/us-per-frame.dat"
read -r _ nb panels rest < <(grep '^#meta' "$tmp/a.dat")
a_backends=${rest%% | *} a_sizes=${rest##* | }
{
	if [ "$nb" -eq 0 ]; then
		nodata "$title" "$what"
	else
		d="$outdir/us-per-frame.dat"
		cat <<-GP
		set style fill solid 0.9 border lc 'black'
		set boxwidth 0.8
		set grid ytics
		set key top left
		set ylabel "$us per frame"
		set yrange [0:*]
		set offsets 0.6, 0.6, graph 0.08, 0
		GP
		if [ "$panels" -eq 1 ]; then
			nsz=$(wc -w <<<"$a_sizes")
			i=0 xt=
			for b in $a_backends; do
				xt="$xt${xt:+, }\"$b\" $i"
				i=$((i + 1))
			done
			echo "set multiplot layout 1,$nsz title \"$title\""
			echo "set xtics ($xt) rotate by -30 nomirror"
			for s in $a_sizes; do
				cat <<-GP
				set title "$s B frames"
				plot '$d' using (\$1 == $s ? \$4 : NaN):7 with boxes lc '$c_guest' title 'guest', \\
				     '' using (\$1 == $s ? \$4 : NaN):5 with boxes lc '$c_dev' title 'device', \\
				     '' using (\$1 == $s ? \$4 : NaN):7:(sprintf('%.3g', \$7)) with labels offset 0,0.7 notitle
				unset key
				unset ylabel
				GP
			done
		else
			i=0
			for s in $a_sizes; do
				# the cluster's middle, under the backends' names
				echo "set label $((i + 10)) '$s B' at first $((i * (nb + 1))) + ($nb - 1) / 2.0, graph -0.2 center"
				i=$((i + 1))
			done
			cat <<-GP
			set title "$title"
			set bmargin 7
			set xlabel "backend, frame size" offset 0,-2
			set xtics ($(awk '!/^#/ { printf "%s\"%s\" %s", sep, $2, $3; sep = ", " }' "$d")) rotate by -30 nomirror
			plot '$d' using 3:7 with boxes lc '$c_guest' title 'guest', \\
			     '' using 3:5 with boxes lc '$c_dev' title 'device', \\
			     '' using 3:7:(sprintf('%.3g', \$7)) with labels offset 0,0.7 notitle
			GP
		fi
	fi
} | gp us-per-frame || exit 1

# ---- b: device us/frame, both modes ---------------------------------------

what="device-us-per-frame.png (where=$where, batch 32, event_idx 1, 1 pair)"
title="device $us per frame, median and min..max (where=$where, batch 32, event_idx 1, 1 pair)"
d="$outdir/device-us-per-frame.dat"
# x: the frame size's cluster, a bar per backend, the same in both panels
# shellcheck disable=SC2016 # an awk condition
sel '$5 == 32 && $10 != "NaN"' | awk -v order="$backends_order" '
	{
		row[++nr] = $0
		if (!(($4 + 0) in hass)) {
			hass[$4 + 0] = 1
			sizes[++ns] = $4 + 0
		}
		hasb[$3] = 1
	}
	END {
		n = split(order, o, " ")
		for (i = 1; i <= n; i++)
			if (o[i] in hasb)
				bx[o[i]] = nb++
		for (i = 2; i <= ns; i++)
			for (j = i; j > 1 && sizes[j - 1] > sizes[j]; j--) {
				t = sizes[j]; sizes[j] = sizes[j - 1]; sizes[j - 1] = t
			}
		for (s = 1; s <= ns; s++)
			sx[sizes[s]] = (s - 1) * (nb + 1)
		print "# mode frame_size backend x device_med device_min device_max rows"
		for (r = 1; r <= nr; r++) {
			split(row[r], f, " ")
			print f[1], f[4], f[3], sx[f[4] + 0] + bx[f[3]], f[10], f[11], f[12], f[8]
		}
	}' >"$d"
b_sizes=$(awk '!/^#/ { print $2 }' "$d" | sort -nu | tr '\n' ' ')
b_backends=
for b in $backends_order; do
	awk -v b="$b" '$3 == b { f = 1 } END { exit !f }' "$d" &&
		b_backends="$b_backends $b"
done
nb=$(wc -w <<<"$b_backends")
{
	xt='' i=0
	for s in $b_sizes; do
		xt="$xt${xt:+, }\"$s B\" $((i * (nb + 1))) + ($nb - 1) / 2.0"
		i=$((i + 1))
	done
	# A log scale when the values span 100x or more (bars not stacked).
	logy=$(awk '!/^#/ { if (lo == "" || $6 < lo) lo = $6; if ($7 > hi) hi = $7 }
		END { print (lo > 0 && hi / lo >= 100) }' "$d")
	echo "set multiplot layout 1,2 title \"$title\""
	for m in guest-less guest; do
		if ! awk -v m="$m" '$1 == m { f = 1 } END { exit !f }' "$d"; then
			nodata "mode=$m" "${what%)}, mode=$m)"
			continue
		fi
		# every panel sets all it needs: a "no data" one may be before
		cat <<-GP
		set style fill solid 0.9 border lc 'black'
		set boxwidth 0.8
		set grid ytics
		set key top left
		set xlabel "frame size"
		set ylabel "device $us per frame"
		set xtics ($xt) nomirror
		set ytics
		set autoscale x
		set offsets 0.6, 0.6, 0, 0
		GP
		if [ "$logy" -eq 1 ]; then
			echo "set logscale y"
			echo "set yrange [*:*]"
		else
			echo "set yrange [0:*]"
		fi
		echo "set title 'mode=$m'"
		plot='' sep=''
		for b in $b_backends; do
			awk -v b="$b" -v m="$m" '$1 == m && $3 == b { f = 1 } END { exit !f }' "$d" ||
				continue
			u="(strcol(1) eq '$m' && strcol(3) eq '$b' ? \$4 : NaN)"
			plot="$plot$sep'$d' using $u:5 with boxes lc '${colour[$b]}' title '$b', \\
	'' using $u:5:6:7 with yerrorbars lc 'black' pt 7 ps 0.4 notitle"
			sep=", \\
	"
		done
		echo "plot $plot"
	done
} | gp device-us-per-frame || exit 1

# ---- c, d: against batch, mode=guest, 64 B --------------------------------

# batch_blocks FILE FIELDS COMMENT: the groups of c and d as a block per
# backend (gnuplot's index, in backends_order), each sorted by batch: batch
# and the fields (groups.dat numbers), rows with at least one value only.
batch_blocks() {
	echo "# $3" >"$1"
	# shellcheck disable=SC2016 # an awk condition
	sel '$1 == "guest" && $4 == 64' | awk -v fields="$2" -v order="$backends_order" '
	{
		n = split(fields, fl, " ")
		line = $5
		any = 0
		for (i = 1; i <= n; i++) {
			line = line " " $fl[i]
			if ($fl[i] != "NaN")
				any = 1
		}
		if (any)
			rows[$3] = rows[$3] line "\n"
	}
	END {
		nb = split(order, o, " ")
		for (i = 1; i <= nb; i++)
			if (o[i] in rows) {
				if (k++)
					printf "\n\n"
				printf "# backend %s\n%s", o[i], rows[o[i]]
			}
	}' >>"$1"
}

# batch_panel FILE COL SCALE YLABEL TITLE WHAT KEY: a panel of COL (its
# median, then min and max) against batch, a line per backend; the legend
# at KEY ("top left").
batch_panel() {
	local f=$1 c=$2 scale=$3 plot='' sep='' b i=0 batches blist
	batches=$(awk '!/^#/ && NF { print $1 }' "$f" | sort -nu | tr '\n' ' ')
	blist=$(awk '/^# backend/ { print $3 }' "$f")
	for b in $blist; do
		if awk -v b="$b" -v c="$c" '/^# backend/ { cur = $3 }
			cur == b && !/^#/ && NF && $c != "NaN" { f = 1 }
			END { exit !f }' "$f"; then
			plot="$plot$sep'$f' index $i using 1:(\$$c$scale):(\$$((c + 1))$scale):(\$$((c + 2))$scale) with yerrorlines lw 2 pt 7 lc '${colour[$b]}' title '$b'"
			sep=", \\
	"
		fi
		i=$((i + 1))
	done
	if [ -z "$plot" ]; then
		nodata "$5" "$6"
		return
	fi
	local lo hi
	lo=${batches%% *}
	hi=$(awk '{ print $NF }' <<<"$batches")
	cat <<-GP
	set title "$5"
	set key $7
	set grid
	set logscale x 2
	set xrange [$lo / 1.5:$hi * 1.5]
	set xtics $(tics "$batches") nomirror
	set ytics
	$(if [ "${8-}" = log ]; then echo "set logscale y; set yrange [*:*]"; else echo "unset logscale y; set yrange [0:*]"; fi)
	set xlabel "batch (frames per kick)"
	set ylabel "$4"
	plot $plot
	GP
}

sel_c="mode=guest, where=$where, 64 B, event_idx 1, 1 pair"
d="$outdir/fps-vs-batch.dat"
batch_blocks "$d" "16 17 18" \
	"batch frames_per_s (median min max), a block per backend"
{
	batch_panel "$d" 2 "/1e6" "Mframes/s" \
		"frames/s against batch, median and min..max ($sel_c)" \
		"fps-vs-batch.png ($sel_c)" "top left"
} | gp fps-vs-batch || exit 1

d="$outdir/exits-irqs-vs-batch.dat"
batch_blocks "$d" "19 20 21 22 23 24" \
	"batch exits_per_frame (median min max) irqs_per_frame (median min max), a block per backend"
{
	echo "set multiplot layout 1,2 title \"exits and interrupts per frame against batch, median and min..max ($sel_c)\""
	# Exits span from one a frame (inline, batch 1) to a few hundredths.
	batch_panel "$d" 2 "" "VM exits per frame (log)" "VM exits" \
		"exits-irqs-vs-batch.png, exits ($sel_c)" "top right" log
	batch_panel "$d" 5 "" "guest interrupts per frame" "interrupts" \
		"exits-irqs-vs-batch.png, irqs ($sel_c)" "bottom left"
} | gp exits-irqs-vs-batch || exit 1

# ---- e: the engine --------------------------------------------------------

what="engine.png"
d="$outdir/engine.dat"
{
	echo "# frame_size engine_ns_per_frame pct_of_memcpy rows (medians), a block per batch"
	awk -F'\t' "$awk_stats"'
	$1 != "" && $2 != "" {
		k = ($2 + 0) " " ($1 + 0)
		if (!(k in rows))
			keys[++nk] = k
		rows[k]++
		if ($3 != "")
			ns[k] = ns[k] " " $3
		if ($4 != "")
			pct[k] = pct[k] " " $4
	}
	END {
		for (i = 1; i <= nk; i++) {
			split(stats(ns[keys[i]]), a, " ")
			split(stats(pct[keys[i]]), p, " ")
			print keys[i], a[1], p[1], rows[keys[i]]
		}
	}' "$tmp/engine.tsv" | sort -k1,1n -k2,2n | awk '
	$1 != last {
		if (NR > 1)
			printf "\n\n"
		print "# batch " $1
		last = $1
	}
	{ print $2, $3, $4, $5 }'
} >"$d"
{
	sizes=$(awk '!/^#/ && NF { print $1 }' "$d" | sort -nu | tr '\n' ' ')
	batches=$(awk '/^# batch/ { print $3 }' "$d")
	echo "set multiplot layout 1,2 title \"ring engine (vnl_bench): per frame, and throughput as % of memcpy's, medians\""
	for panel in ns pct; do
		if [ "$panel" = ns ]; then
			c=2 yl="engine ns per frame" t="ns per frame"
			ylog="set logscale y; set yrange [*:*]" ref=
		else
			c=3 yl="engine throughput, % of memcpy" t="% of memcpy"
			ylog="unset logscale y; set yrange [0:*]"
			ref=", 100 with lines dt 2 lc 'black' title 'memcpy'"
		fi
		if ! awk -v c="$c" '!/^#/ && NF && $c != "NaN" { f = 1 } END { exit !f }' "$d"; then
			nodata "$t" "$what, $t ($engine)"
			continue
		fi
		plot='' sep='' i=0
		for b in $batches; do
			plot="$plot$sep'$d' index $i using 1:$c with linespoints lw 2 pt 7 title 'batch $b'"
			sep=", "
			i=$((i + 1))
		done
		cat <<-GP
		set title "$t"
		set key top left
		set grid
		set logscale x
		$ylog
		set xtics $(tics "$sizes") nomirror
		set ytics
		set xrange [*:*]
		set offsets graph 0.08, graph 0.08, 0, 0
		set xlabel "frame size (bytes)"
		set ylabel "$yl"
		plot $plot$ref
		GP
	done
} | gp engine || exit 1

# ---- summary.txt ----------------------------------------------------------

# The groups of a..d, and per mode the ratios of the median device us/frame.
# shellcheck disable=SC2016 # an awk condition
sel '$5 == 32 || ($1 == "guest" && $4 == 64)' | awk -v sel="$sel_c" -v where="$where" '
	function v(x, fmt) { return x == "NaN" ? "-" : sprintf(fmt, x) }
	function ratio(m, a, b) {
		if (!((m, a) in dev) || !((m, b) in dev) || dev[m, b] <= 0)
			return "-"
		return sprintf("%.3f", dev[m, a] / dev[m, b])
	}
	BEGIN {
		print "Medians over rounds (min..max of the device us/frame), where=" where ", event_idx 1, 1 queue pair;"
		print "the groups of us-per-frame, device-us-per-frame, fps-vs-batch and exits-irqs-vs-batch."
		print ""
		printf "%-10s %-10s %6s %5s %6s %12s %21s %12s %12s %12s %12s\n",
		       "backend", "mode", "size", "batch", "rounds", "device_us", "device_us_min..max",
		       "guest_us", "frames_per_s", "exits/frame", "irqs/frame"
	}
	{
		printf "%-10s %-10s %6d %5d %6d %12s %21s %12s %12s %12s %12s\n",
		       $3, $1, $4, $5, $8, v($10, "%.6g"),
		       $11 == "NaN" ? "-" : sprintf("%.6g..%.6g", $11, $12),
		       v($13, "%.6g"), v($16, "%.0f"), v($19, "%.6g"), v($22, "%.6g")
		if ($4 == 64 && $5 == 32 && $10 != "NaN")
			dev[$1, $3] = $10
	}
	END {
		print ""
		print "Ratios of the median device us/frame, 64 B frames, batch 32:"
		printf "%-10s %14s %14s\n", "mode", "kmod/vhost-net", "kmod/thread"
		split("guest-less guest", modes, " ")
		for (i = 1; i <= 2; i++) {
			m = modes[i]
			printf "%-10s %14s %14s\n", m, ratio(m, "kmod", "vhost-net"),
			       ratio(m, "kmod", "thread")
		}
	}' >"$outdir/summary.txt" || die 1 "$outdir/summary.txt: cannot write"
echo "$me: wrote $outdir: us-per-frame.png device-us-per-frame.png fps-vs-batch.png exits-irqs-vs-batch.png engine.png summary.txt"
