/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench/guest/timer: timings inside the real-kernel guest of
 * tests/e2e/guest.sh (busybox's date has no %N).  Built on the host by
 * bench/run.sh (statically when the host can).
 *
 *   timer now
 *       CLOCK_MONOTONIC in nanoseconds.
 *   timer hook LABEL N XML PREP_ARGV... -- REL_ARGV...
 *       N cycles of the hook's prepare then release, each run as libvirt
 *       runs it (fork, execve, the XML on a pipe to stdin, wait4),
 *       each timed on its own.  Exit status must be 0.
 *   timer bare LABEL N ADDR TARGET [reset]
 *       N cycles of the bare sysfs writes that do the same, from C with
 *       no process per write: driver_override=TARGET, unbind from the
 *       current driver, drivers_probe (the device must then be on
 *       TARGET); back: [reset,] driver_override cleared, unbind from
 *       TARGET, drivers_probe (the device must be back on its driver).
 *   timer bare-seq LABEL N ADDR1,ADDR2,... TARGET [reset]
 *       The same for several devices, one after another: each cycle moves
 *       every device to TARGET in turn (prepare), then each back in turn
 *       (release).
 *   timer bare-par LABEL N ADDR1,ADDR2,... TARGET [reset]
 *       The same in parallel: one thread per device, each doing its
 *       device's writes; a cycle's prepare ends when every thread has
 *       moved its device, then all release at once.
 *   timer exec LABEL N PROGRAM [ARGS...]
 *       N runs of PROGRAM (the floor: a process that does nothing).
 *   timer run PROGRAM [ARGS...]
 *       One run of PROGRAM (from PATH), its standard output sent to
 *       standard error; prints the milliseconds from before the fork to
 *       after the wait (CLOCK_MONOTONIC) and exits with its status (bench/
 *       libvirt/run times virsh with it: no clock process inside the
 *       interval).
 *
 * Output: CSV lines "LABEL,PHASE,n,median_us,p10_us,p90_us,min_us,max_us"
 * on stdout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
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

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(const double *s, int n, double q)
{
	double pos = q * (n - 1);
	int i = (int)pos;

	if (i + 1 >= n)
		return s[n - 1];
	return s[i] + (pos - i) * (s[i + 1] - s[i]);
}

static void report(const char *label, const char *phase, double *t, int n)
{
	qsort(t, (size_t)n, sizeof(*t), cmp_d);
	printf("%s,%s,%d,%.1f,%.1f,%.1f,%.1f,%.1f\n", label, phase, n, pct(t, n, 0.5),
	       pct(t, n, 0.1), pct(t, n, 0.9), t[0], t[n - 1]);
	fflush(stdout);
}

static char *slurp(const char *path, size_t *len)
{
	static char buf[1 << 20];
	int fd = open(path, O_RDONLY);
	ssize_t k;

	if (fd < 0) {
		perror(path);
		exit(2);
	}
	k = read(fd, buf, sizeof(buf));
	close(fd);
	if (k < 0) {
		perror(path);
		exit(2);
	}
	*len = (size_t)k;
	return buf;
}

/* fork, execve, @in on a pipe to stdin, wait4; returns the exit status. */
static int run(char **argv, const char *in, size_t len, double *us)
{
	int p[2], status;
	double t0;
	pid_t pid;

	if (in && pipe(p) < 0)
		return -1;
	t0 = now_us();
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);
		if (in) {
			dup2(p[0], 0);
			close(p[0]);
			close(p[1]);
		} else {
			dup2(nul, 0);
		}
		dup2(nul, 1);
		execve(argv[0], argv, environ);
		_exit(127);
	}
	if (in) {
		size_t off = 0;
		close(p[0]);
		while (off < len) {
			ssize_t k = write(p[1], in + off, len - off);
			if (k <= 0)
				break;
			off += (size_t)k;
		}
		close(p[1]);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	*us = now_us() - t0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int put(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY);
	ssize_t k;

	if (fd < 0)
		return -errno;
	k = write(fd, v, strlen(v));
	close(fd);
	return k == (ssize_t)strlen(v) ? 0 : -errno;
}

static void driver_of(const char *addr, char *out, size_t n)
{
	char p[PATH_MAX], t[PATH_MAX];
	ssize_t k;

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver", addr);
	k = readlink(p, t, sizeof(t) - 1);
	out[0] = '\0';
	if (k > 0) {
		t[k] = '\0';
		snprintf(out, n, "%s", strrchr(t, '/') + 1);
	}
}

/* Move @addr to @target ("" = back to whatever drivers_probe picks):
 * driver_override, unbind, drivers_probe. */
static int move(const char *addr, const char *override, const char *want)
{
	char p[PATH_MAX], cur[128];
	int r;

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver_override", addr);
	r = put(p, override);
	if (r < 0)
		return fprintf(stderr, "timer: %s: %s\n", p, strerror(-r)), r;
	driver_of(addr, cur, sizeof(cur));
	if (cur[0]) {
		snprintf(p, sizeof(p), "/sys/bus/pci/drivers/%s/unbind", cur);
		r = put(p, addr);
		if (r < 0)
			return fprintf(stderr, "timer: %s: %s\n", p, strerror(-r)), r;
	}
	(void)put("/sys/bus/pci/drivers_probe", addr);
	driver_of(addr, cur, sizeof(cur));
	if (strcmp(cur, want)) {
		fprintf(stderr, "timer: %s is on '%s', not '%s'\n", addr, cur, want);
		return -ENODEV;
	}
	return 0;
}

/* One device of a bare run: its address, its driver to come back to. */
struct bdev {
	const char *addr;
	char orig[128];
	const char *ov, *target;
	bool reset;
	pthread_barrier_t *bar;
	int n, fail;
};

static int bare_prepare(struct bdev *d)
{
	return move(d->addr, d->ov, d->target);
}

static int bare_release(struct bdev *d)
{
	char p[PATH_MAX];

	if (d->reset) {
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/reset", d->addr);
		if (put(p, "1") < 0)
			fprintf(stderr, "timer: %s: reset failed\n", d->addr);
	}
	return move(d->addr, "\n", d->orig);
}

/* A thread of bare-par: per cycle, wait for the start, prepare, wait for
 * every prepare, release, wait for every release.  After a failure it
 * only keeps to the barriers, so that no thread waits forever. */
static void *bare_thread(void *arg)
{
	struct bdev *d = arg;

	for (int i = 0; i < d->n; i++) {
		pthread_barrier_wait(d->bar);
		if (!d->fail && bare_prepare(d) < 0)
			d->fail = 1;
		pthread_barrier_wait(d->bar);
		if (!d->fail && bare_release(d) < 0)
			d->fail = 1;
		pthread_barrier_wait(d->bar);
	}
	return NULL;
}

/* bare-seq / bare-par: N cycles of the bare writes for every device of
 * @addrs (comma-separated); a[i] the cycle's prepare, b[i] its release. */
static int bare_multi(bool par, int n, char *addrs, const char *target, bool reset, double *a,
		      double *b)
{
	static char ov[160];
	struct bdev *d = NULL;
	pthread_t *th;
	pthread_barrier_t bar;
	int nd = 0, fail = 0;

	snprintf(ov, sizeof(ov), "%s\n", target);
	d = calloc(strlen(addrs) + 1, sizeof(*d)); /* more than the commas */
	if (!d)
		return 2;
	for (char *save = NULL, *t = strtok_r(addrs, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		d[nd].addr = t;
		driver_of(t, d[nd].orig, sizeof(d[nd].orig));
		d[nd].ov = ov;
		d[nd].target = target;
		d[nd].reset = reset;
		d[nd].bar = &bar;
		d[nd].n = n;
		nd++;
	}
	if (!nd)
		return 2;
	if (!par) {
		for (int i = 0; i < n; i++) {
			double t0 = now_us(), t1;
			for (int j = 0; j < nd; j++)
				if (bare_prepare(&d[j]) < 0)
					return 1;
			t1 = now_us();
			for (int j = 0; j < nd; j++)
				if (bare_release(&d[j]) < 0)
					return 1;
			a[i] = t1 - t0;
			b[i] = now_us() - t1;
		}
		free(d);
		return 0;
	}
	th = calloc((size_t)nd, sizeof(*th));
	if (!th || pthread_barrier_init(&bar, NULL, (unsigned)nd + 1))
		return 2;
	for (int j = 0; j < nd; j++)
		if (pthread_create(&th[j], NULL, bare_thread, &d[j]))
			return 2;
	for (int i = 0; i < n; i++) {
		double t0 = now_us(), t1;
		pthread_barrier_wait(&bar);
		pthread_barrier_wait(&bar);
		t1 = now_us();
		pthread_barrier_wait(&bar);
		a[i] = t1 - t0;
		b[i] = now_us() - t1;
	}
	for (int j = 0; j < nd; j++) {
		pthread_join(th[j], NULL);
		fail |= d[j].fail;
	}
	pthread_barrier_destroy(&bar);
	free(th);
	free(d);
	return fail;
}

static void report3(const char *label, double *a, double *b, int n)
{
	double *c = calloc((size_t)n, sizeof(*c));

	for (int i = 0; i < n; i++)
		c[i] = a[i] + b[i];
	report(label, "prepare", a, n);
	report(label, "release", b, n);
	report(label, "cycle", c, n);
	free(c);
}

int main(int argc, char **argv)
{
	int n;
	double *a, *b;

	if (argc == 2 && !strcmp(argv[1], "now")) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		printf("%lld%09ld\n", (long long)t.tv_sec, t.tv_nsec);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "run")) {
		double t0 = now_us();
		int st;
		pid_t pid = fork();

		if (pid < 0)
			return perror("timer: fork"), 2;
		if (pid == 0) {
			dup2(2, 1);
			execvp(argv[2], argv + 2);
			perror(argv[2]);
			_exit(127);
		}
		if (waitpid(pid, &st, 0) < 0)
			return perror("timer: waitpid"), 2;
		printf("%.1f\n", (now_us() - t0) / 1e3);
		return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
	if (argc < 5) {
		fputs("usage: timer now\n"
		      "       timer run PROG [ARGS...]\n"
		      "       timer hook LABEL N XML PREP_ARGV... -- REL_ARGV...\n"
		      "       timer bare LABEL N ADDR TARGET [reset]\n"
		      "       timer bare-seq|bare-par LABEL N ADDR1,ADDR2,... TARGET [reset]\n"
		      "       timer exec LABEL N PROGRAM [ARGS...]\n",
		      stderr);
		return 2;
	}
	n = atoi(argv[3]);
	if (n < 1)
		n = 1;
	a = calloc((size_t)n, sizeof(*a));
	b = calloc((size_t)n, sizeof(*b));
	if (!a || !b)
		return 2;
	if (!strcmp(argv[1], "hook")) {
		size_t len;
		const char *xml = slurp(argv[4], &len);
		char **prep = argv + 5, **rel = NULL;
		for (int i = 5; i < argc; i++)
			if (!strcmp(argv[i], "--")) {
				argv[i] = NULL;
				rel = argv + i + 1;
			}
		if (!rel || !*rel || !*prep)
			return 2;
		for (int i = 0; i < n; i++) {
			int r = run(prep, xml, len, &a[i]);
			if (r)
				return fprintf(stderr, "timer: prepare exit %d\n", r), 1;
			r = run(rel, xml, len, &b[i]);
			if (r)
				return fprintf(stderr, "timer: release exit %d\n", r), 1;
		}
		{
			double *c = calloc((size_t)n, sizeof(*c));
			for (int i = 0; i < n; i++)
				c[i] = a[i] + b[i];
			report(argv[2], "prepare", a, n);
			report(argv[2], "release", b, n);
			report(argv[2], "cycle", c, n);
		}
		return 0;
	}
	if (!strcmp(argv[1], "bare") && argc >= 6) {
		const char *addr = argv[4], *target = argv[5];
		bool reset = argc > 6 && !strcmp(argv[6], "reset");
		char orig[128], p[PATH_MAX], ov[160];
		driver_of(addr, orig, sizeof(orig));
		snprintf(ov, sizeof(ov), "%s\n", target);
		for (int i = 0; i < n; i++) {
			double t0 = now_us(), t1;
			if (move(addr, ov, target) < 0)
				return 1;
			t1 = now_us();
			if (reset) {
				snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/reset", addr);
				if (put(p, "1") < 0)
					fprintf(stderr, "timer: reset failed\n");
			}
			if (move(addr, "\n", orig) < 0)
				return 1;
			a[i] = t1 - t0;
			b[i] = now_us() - t1;
		}
		{
			double *c = calloc((size_t)n, sizeof(*c));
			for (int i = 0; i < n; i++)
				c[i] = a[i] + b[i];
			report(argv[2], "prepare", a, n);
			report(argv[2], "release", b, n);
			report(argv[2], "cycle", c, n);
		}
		return 0;
	}
	if ((!strcmp(argv[1], "bare-seq") || !strcmp(argv[1], "bare-par")) && argc >= 6) {
		bool reset = argc > 6 && !strcmp(argv[6], "reset");
		int r = bare_multi(!strcmp(argv[1], "bare-par"), n, argv[4], argv[5], reset, a, b);
		if (r)
			return r;
		report3(argv[2], a, b, n);
		return 0;
	}
	if (!strcmp(argv[1], "exec")) {
		for (int i = 0; i < n; i++) {
			int r = run(argv + 4, NULL, 0, &a[i]);
			if (r)
				return fprintf(stderr, "timer: exit %d\n", r), 1;
		}
		report(argv[2], "run", a, n);
		return 0;
	}
	fputs("timer: unknown mode\n", stderr);
	return 2;
}
