/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench/runner: whole-process timings, as libvirt sees a hook.
 *
 *   runner [-n CYCLES] [-w WARMUP] [-o OUT.csv] [-r RAW.csv] [-q] [-p] PLAN
 *
 * -q: no summary on stdout when -o is given; -p: progress on stderr.
 *
 * PLAN has one step a line, fields separated by TABs (blank lines and
 * lines starting with '#' are skipped):
 *
 *   LABEL  EXPECT  EVERY  STDIN  [NAME=VALUE ...]  ARGV0  [ARGV1 ...]
 *
 *   LABEL   copied as is to the start of the step's CSV line (it may hold
 *           commas: "hook,ours,prepare,4096,16")
 *   EXPECT  the exit status the step must have, or '*' for any
 *   EVERY   run the step in every EVERY-th cycle only (1: every cycle);
 *           lets an expensive step (the shell baseline) run fewer times,
 *           still interleaved with the others
 *   STDIN   a file fed to the child's standard input through a pipe (as
 *           libvirt feeds the domain XML), or '-' for /dev/null
 *   NAME=VALUE  added to the step's environment (as env(1) does, but
 *           without a process of its own): lets steps on different
 *           sysroots share a cycle
 *   ARGV    the program (an absolute path, run with execve: no PATH
 *           search) and its arguments
 *
 * Every cycle runs the steps in plan order: a VM's life (prepare, start,
 * started, stopped, release), the shell baseline's, the floor, side by
 * side, so that drift of the machine hits them all alike.  WARMUP cycles
 * (of the steps with EVERY 1) run first and are not recorded.
 *
 * A run's time is from just before fork() to wait4()'s return: fork,
 * execve, the dynamic loader, the program, feeding its stdin, its exit,
 * the reaping.  The child's environment is the runner's own plus the
 * step's NAME=VALUE fields.  Its stdout
 * goes to /dev/null, its stderr to a scratch file that is shown when the
 * exit status is not the expected one.  Peak memory is ru_maxrss of the
 * child from wait4 (KiB; Linux counts the pre-exec copy of the runner
 * too, so it never goes below the runner's own RSS: see the floor's).
 *
 * Output, one line a step:
 *   LABEL,runs,median_us,p10_us,p90_us,q1_us,q3_us,min_us,mean_us,max_us,
 *   maxrss_kb,fails
 * With -r, every sample as LABEL,cycle,us,rc,maxrss_kb.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct step {
	char *label;
	int expect; /* -1: any */
	int every;
	char *in;     /* the stdin content, or NULL for /dev/null */
	size_t in_len;
	char **argv;
	char **env; /* the runner's environment plus the step's */
	double *t; /* microseconds */
	long *rss;
	size_t n, cap;
	long maxrss;
	int fails;
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("runner: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

static char *slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0)
		die("%s: %s", path, strerror(errno));
	buf = xrealloc(NULL, (size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			die("%s: short read", path);
		got += (size_t)k;
	}
	buf[got] = '\0';
	close(fd);
	*len = got;
	return buf;
}

static size_t load_plan(const char *path, struct step **ret)
{
	size_t len, n = 0;
	char *text = slurp(path, &len), *save = NULL, *line;
	struct step *v = NULL;
	int lineno = 0;

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[4096];
		int nf = 0;
		char *s = line, *tab;
		struct step st = {0};

		lineno++;
		if (!*line || *line == '#')
			continue;
		while (nf < (int)(sizeof(f) / sizeof(*f)) - 1) {
			f[nf++] = s;
			tab = strchr(s, '\t');
			if (!tab)
				break;
			*tab = '\0';
			s = tab + 1;
		}
		if (nf < 5)
			die("%s: step %d: want LABEL EXPECT EVERY STDIN ARGV0 "
			    "...",
			    path, lineno);
		st.label = f[0];
		st.expect = strcmp(f[1], "*") ? atoi(f[1]) : -1;
		st.every = atoi(f[2]);
		if (st.every < 1)
			st.every = 1;
		if (strcmp(f[3], "-"))
			st.in = slurp(f[3], &st.in_len);
		{
			int a0 = 4, ne = 0, nenv = 0;
			while (a0 < nf && f[a0][0] != '/' && strchr(f[a0], '='))
				a0++;
			if (a0 == nf)
				die("%s: step %d: no program (an absolute path)",
				    path, lineno);
			while (environ[nenv])
				nenv++;
			st.env = xrealloc(NULL, (size_t)(nenv + a0 - 4 + 1) *
						    sizeof(char *));
			for (int i = 4; i < a0; i++)
				st.env[ne++] = f[i];
			for (int i = 0; i < nenv; i++) {
				size_t kl = strcspn(environ[i], "=");
				bool over = false;
				for (int j = 4; j < a0 && !over; j++)
					over = !strncmp(f[j], environ[i], kl + 1);
				if (!over)
					st.env[ne++] = environ[i];
			}
			st.env[ne] = NULL;
			st.argv = xrealloc(NULL, (size_t)(nf - a0 + 1) *
						     sizeof(char *));
			for (int i = a0; i < nf; i++)
				st.argv[i - a0] = f[i];
			st.argv[nf - a0] = NULL;
		}
		if (access(st.argv[0], X_OK) < 0)
			die("%s: step %d: %s: %s", path, lineno, st.argv[0],
			    strerror(errno));
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = st;
	}
	*ret = v;
	return n;
}

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* One run of @s.  Returns the exit status (128+N for signal N). */
static int run_once(const struct step *s, int errfd, int nullfd, double *us,
		    long *maxrss)
{
	int p[2] = {-1, -1}, status = 0;
	struct rusage ru;
	double t0, t1;
	pid_t pid;

	if (ftruncate(errfd, 0) < 0 || lseek(errfd, 0, SEEK_SET) < 0)
		die("scratch file: %s", strerror(errno));
	if (s->in && pipe2(p, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	t0 = now_us();
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(s->in ? p[0] : nullfd, 0);
		dup2(nullfd, 1);
		dup2(errfd, 2);
		execve(s->argv[0], s->argv, s->env);
		dprintf(2, "runner: cannot execute %s: %s\n", s->argv[0],
			strerror(errno));
		_exit(127);
	}
	if (s->in) {
		size_t off = 0;
		close(p[0]);
		while (off < s->in_len) {
			ssize_t k = write(p[1], s->in + off, s->in_len - off);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				break; /* EPIPE: it did not read it all */
			off += (size_t)k;
		}
		close(p[1]);
	}
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			die("wait4: %s", strerror(errno));
	t1 = now_us();
	*us = t1 - t0;
	*maxrss = ru.ru_maxrss;
	return WIFEXITED(status) ? WEXITSTATUS(status)
				 : 128 + WTERMSIG(status);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Linear interpolation between closest ranks (numpy's default). */
static double pct(const double *sorted, size_t n, double q)
{
	double pos = q * (double)(n - 1);
	size_t i = (size_t)pos;
	double frac = pos - (double)i;

	if (i + 1 >= n)
		return sorted[n - 1];
	return sorted[i] + frac * (sorted[i + 1] - sorted[i]);
}

static void show_err(const struct step *s, int errfd, int rc)
{
	char buf[2048];
	ssize_t k = pread(errfd, buf, sizeof(buf) - 1, 0);

	fprintf(stderr, "runner: %s: exit %d, expected %d (%s)\n", s->label,
		rc, s->expect, s->argv[0]);
	if (k > 0) {
		buf[k] = '\0';
		fprintf(stderr, "%s%s", buf,
			buf[k - 1] == '\n' ? "" : "\n");
	}
}

int main(int argc, char **argv)
{
	int cycles = 30, warm = 3, opt, errfd, nullfd, quiet = 0, progress = 0;
	const char *out = NULL, *raw = NULL;
	char errpath[] = "/tmp/bench-runner-err.XXXXXX";
	FILE *fo = stdout, *fr = NULL;
	struct step *st;
	size_t n;

	while ((opt = getopt(argc, argv, "n:w:o:r:qp")) != -1) {
		switch (opt) {
		case 'n':
			cycles = atoi(optarg);
			break;
		case 'w':
			warm = atoi(optarg);
			break;
		case 'o':
			out = optarg;
			break;
		case 'r':
			raw = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'p':
			progress = 1;
			break;
		default:
			die("usage: runner [-n CYCLES] [-w WARMUP] [-o OUT] "
			    "[-r RAW] [-q] [-p] PLAN");
		}
	}
	if (optind + 1 != argc || cycles < 1 || warm < 0)
		die("usage: runner [-n CYCLES] [-w WARMUP] [-o OUT] [-r RAW] "
		    "[-q] [-p] PLAN");
	signal(SIGPIPE, SIG_IGN);
	n = load_plan(argv[optind], &st);
	if (!n)
		die("%s: no steps", argv[optind]);
	errfd = mkostemp(errpath, O_CLOEXEC);
	if (errfd < 0)
		die("mkostemp: %s", strerror(errno));
	unlink(errpath);
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nullfd < 0)
		die("/dev/null: %s", strerror(errno));
	if (out && !(fo = fopen(out, "a")))
		die("%s: %s", out, strerror(errno));
	if (raw && !(fr = fopen(raw, "a")))
		die("%s: %s", raw, strerror(errno));

	for (int c = -warm; c < cycles; c++) {
		if (progress && c > 0 && c % (cycles >= 10 ? cycles / 4 : 1) == 0)
			fprintf(stderr, "runner: %d of %d cycles done\n", c,
				cycles);
		for (size_t i = 0; i < n; i++) {
			struct step *s = &st[i];
			double us;
			long rss;
			int rc;

			if (c >= 0 && c % s->every)
				continue;
			/* Warm-up: only the steps that run every cycle. */
			if (c < 0 && s->every > 1)
				continue;
			rc = run_once(s, errfd, nullfd, &us, &rss);
			if (s->expect >= 0 && rc != s->expect) {
				if (s->fails++ < 3)
					show_err(s, errfd, rc);
			}
			if (c < 0)
				continue;
			if (s->n == s->cap) {
				s->cap = s->cap ? s->cap * 2 : 64;
				s->t = xrealloc(s->t, s->cap * sizeof(double));
				s->rss = xrealloc(s->rss, s->cap * sizeof(long));
			}
			s->t[s->n] = us;
			s->rss[s->n++] = rss;
			if (rss > s->maxrss)
				s->maxrss = rss;
			if (fr)
				fprintf(fr, "%s,%d,%.1f,%d,%ld\n", s->label, c,
					us, rc, rss);
		}
	}

	for (size_t i = 0; i < n; i++) {
		struct step *s = &st[i];
		double sum = 0;

		if (!s->n)
			continue;
		qsort(s->t, s->n, sizeof(double), cmp_d);
		for (size_t k = 0; k < s->n; k++)
			sum += s->t[k];
		fprintf(fo, "%s,%zu,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%ld,%d\n",
			s->label, s->n, pct(s->t, s->n, 0.5),
			pct(s->t, s->n, 0.1), pct(s->t, s->n, 0.9),
			pct(s->t, s->n, 0.25), pct(s->t, s->n, 0.75), s->t[0],
			sum / (double)s->n, s->t[s->n - 1], s->maxrss,
			s->fails);
		if (!quiet && fo != stdout)
			fprintf(stdout, "  %-44s n=%-3zu median %9.1f us  p10 %9.1f  p90 %9.1f  rss %6ld KiB%s\n",
				s->label, s->n, pct(s->t, s->n, 0.5),
				pct(s->t, s->n, 0.1), pct(s->t, s->n, 0.9),
				s->maxrss, s->fails ? "  FAILURES" : "");
	}
	if (fo != stdout)
		fclose(fo);
	if (fr)
		fclose(fr);
	for (size_t i = 0; i < n; i++)
		if (st[i].fails)
			return 1;
	return 0;
}
