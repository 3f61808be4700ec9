/*
 * A vpcd-protocol server on 127.0.0.1:PORT that one vicc (virtualsmartcard)
 * connects to; the card is present while vicc is connected. Protocol: every
 * message is a 2-byte big-endian length and the payload; a 1-byte payload
 * from us is a control message (0 power off, 1 power on, 2 reset, 4 get
 * ATR; only get ATR is answered), anything longer an APDU.
 */
#include "sim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <glib.h>

void sim_card_changed(struct card *c);

struct vicc {
	pthread_mutex_t mu;
	pthread_t watcher;
	int lfd, fd;
	volatile bool stop;
	struct card *card;
};

static int write_all(int fd, const uint8_t *b, size_t n)
{
	while (n) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, uint8_t *b, size_t n)
{
	while (n) {
		ssize_t r = recv(fd, b, n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static int send_msg(int fd, const uint8_t *b, size_t n)
{
	uint8_t h[2] = { (uint8_t)(n >> 8), (uint8_t)n };

	if (n > 0xffff)
		return -1;
	return write_all(fd, h, 2) < 0 ? -1 : write_all(fd, b, n);
}

static int recv_msg(int fd, uint8_t *b, size_t cap, size_t *n)
{
	uint8_t h[2];
	size_t len;

	if (read_all(fd, h, 2) < 0)
		return -1;
	len = (size_t)h[0] << 8 | h[1];
	if (len > cap)
		return -1;
	*n = len;
	return read_all(fd, b, len);
}

/* with v->mu held: drop a broken connection */
static void drop(struct vicc *v)
{
	if (v->fd >= 0) {
		close(v->fd);
		v->fd = -1;
	}
}

static int ctrl(struct vicc *v, uint8_t what)
{
	return v->fd < 0 ? -1 : send_msg(v->fd, &what, 1);
}

static int v_power_on(struct card *c, uint8_t *atr, size_t *atr_len)
{
	struct vicc *v = c->priv;
	int rc = -1;

	pthread_mutex_lock(&v->mu);
	if (ctrl(v, 1) == 0 && ctrl(v, 4) == 0 &&
	    recv_msg(v->fd, atr, 33, atr_len) == 0 && *atr_len > 0)
		rc = 0;
	else
		drop(v);
	pthread_mutex_unlock(&v->mu);
	return rc;
}

static void v_power_off(struct card *c)
{
	struct vicc *v = c->priv;

	pthread_mutex_lock(&v->mu);
	if (v->fd >= 0 && ctrl(v, 0) < 0)
		drop(v);
	pthread_mutex_unlock(&v->mu);
}

static int v_transmit(struct card *c, const uint8_t *apdu, size_t len,
		      uint8_t *resp, size_t *resp_len)
{
	struct vicc *v = c->priv;
	int rc = -1;

	pthread_mutex_lock(&v->mu);
	if (v->fd >= 0 && len >= 2 && send_msg(v->fd, apdu, len) == 0 &&
	    recv_msg(v->fd, resp, *resp_len, resp_len) == 0)
		rc = 0;
	else
		drop(v);
	pthread_mutex_unlock(&v->mu);
	return rc;
}

static bool v_present(struct card *c)
{
	struct vicc *v = c->priv;
	bool p;

	pthread_mutex_lock(&v->mu);
	p = v->fd >= 0;
	pthread_mutex_unlock(&v->mu);
	return p;
}

static void *watch(void *arg)
{
	struct vicc *v = arg;

	while (!v->stop) {
		struct pollfd p;
		int fd;

		pthread_mutex_lock(&v->mu);
		fd = v->fd;
		pthread_mutex_unlock(&v->mu);
		if (fd < 0) {
			p.fd = v->lfd;
			p.events = POLLIN;
			if (poll(&p, 1, 200) == 1) {
				int nfd = accept(v->lfd, NULL, NULL);

				if (nfd >= 0) {
					struct timeval tv = { 30, 0 };

					setsockopt(nfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
					pthread_mutex_lock(&v->mu);
					v->fd = nfd;
					pthread_mutex_unlock(&v->mu);
					sim_log("vicc: connected");
					sim_card_changed(v->card);
				}
			}
		} else {
			p.fd = fd;
			p.events = POLLRDHUP;
			if (poll(&p, 1, 200) == 1 &&
			    (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
				pthread_mutex_lock(&v->mu);
				if (v->fd == fd)
					drop(v);
				pthread_mutex_unlock(&v->mu);
				sim_log("vicc: disconnected");
				sim_card_changed(v->card);
			}
		}
	}
	return NULL;
}

static void v_destroy(struct card *c)
{
	struct vicc *v = c->priv;

	v->stop = true;
	pthread_join(v->watcher, NULL);
	pthread_mutex_lock(&v->mu);
	drop(v);
	pthread_mutex_unlock(&v->mu);
	close(v->lfd);
	free(v);
	free(c);
}

static const struct card_ops vicc_ops = {
	.kind = "vicc",
	.power_on = v_power_on,
	.power_off = v_power_off,
	.transmit = v_transmit,
	.present = v_present,
	.destroy = v_destroy,
};

struct card *card_vicc_new(const char *args, char **err)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	char *end = NULL;
	long port = args ? strtol(args, &end, 10) : -1;
	struct vicc *v;
	struct card *c;
	int one = 1;

	if (!args || end == args || *end || port <= 0 || port > 65535) {
		*err = g_strdup_printf("vicc: bad port '%s'", args ? args : "");
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	pthread_mutex_init(&v->mu, NULL);
	v->fd = -1;
	v->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(v->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v->lfd < 0 || bind(v->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(v->lfd, 1) < 0) {
		*err = g_strdup_printf("vicc: cannot listen on 127.0.0.1:%ld: %s",
				       port, strerror(errno));
		if (v->lfd >= 0)
			close(v->lfd);
		free(v);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	c->ops = &vicc_ops;
	c->priv = v;
	v->card = c;
	pthread_create(&v->watcher, NULL, watch, v);
	return c;
}
