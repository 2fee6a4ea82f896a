// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "vnetloop" (Documentation/netlink.rst): GET
 * (do by id, dump of all devices) returns the counters, optionally per CPU
 * and per queue pair, of the devices the caller may see; SET_BUDGET (CAP_NET_ADMIN) changes a
 * device's drain budget; the "events" group (CAP_NET_ADMIN) announces
 * device creation, destruction and queue poisoning.
 */
#define pr_fmt(fmt) "vnetloop: " fmt

#include <linux/cpumask.h>
#include <linux/module.h>
#include <net/genetlink.h>

#include "compat.h"
#include "vnetloop.h"

#define VNL_BUDGET_BYTES_MAX	(16 << 20)

enum { VNL_MCGRP_EVENTS };

/* Events name every device and its owner: only for CAP_NET_ADMIN. */
static const struct genl_multicast_group vnl_genl_mcgrps[] = {
	[VNL_MCGRP_EVENTS] = {
		.name = VNETLOOP_GENL_MCGRP_EVENTS,
		VNL_MCGRP_ADMIN_ONLY
	},
};

static const struct nla_policy vnl_get_policy[VNETLOOP_A_MAX + 1] = {
	[VNETLOOP_A_DEV_ID] = { .type = NLA_U32 },
	[VNETLOOP_A_PER_CPU] = { .type = NLA_FLAG },
	[VNETLOOP_A_PER_QUEUE] = { .type = NLA_FLAG },
};

static struct netlink_range_validation vnl_budget_packets_range = {
	.min = 1,
	.max = 65536,
};

static struct netlink_range_validation vnl_budget_bytes_range = {
	.min = 1,
	.max = VNL_BUDGET_BYTES_MAX,
};

static const struct nla_policy vnl_set_budget_policy[VNETLOOP_A_MAX + 1] = {
	[VNETLOOP_A_DEV_ID] = { .type = NLA_U32 },
	[VNETLOOP_A_BUDGET_PACKETS] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &vnl_budget_packets_range),
	[VNETLOOP_A_BUDGET_BYTES] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &vnl_budget_bytes_range),
};

static struct genl_family vnl_genl_family;

/*
 * A nest of every counter, with the u32 attribute key = id (the CPU or the
 * queue pair) when key is not VNETLOOP_STATS_A_UNSPEC.
 */
static int vnl_put_counters(struct sk_buff *skb, int attr, int key, u32 id,
			    const u64 *v)
{
	struct nlattr *nest;
	unsigned int i;

	nest = nla_nest_start(skb, attr);
	if (!nest)
		return -EMSGSIZE;
	if (key != VNETLOOP_STATS_A_UNSPEC && nla_put_u32(skb, key, id))
		goto cancel;
	for (i = 0; i < VNETLOOP_NUM_COUNTERS; i++)
		if (nla_put_u64_64bit(skb, VNETLOOP_STATS_A_COUNTER(i), v[i],
				      VNETLOOP_STATS_A_PAD))
			goto cancel;
	nla_nest_end(skb, nest);
	return 0;

cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

static size_t vnl_counters_size(void)
{
	return nla_total_size(0) + nla_total_size(sizeof(u32)) +
	       VNETLOOP_NUM_COUNTERS * nla_total_size_64bit(sizeof(u64));
}

static size_t vnl_dev_msg_size(bool per_cpu, unsigned int pairs)
{
	size_t n = 1 + (per_cpu ? num_possible_cpus() : 0) + pairs;

	return 4 * nla_total_size(sizeof(u32)) + n * vnl_counters_size();
}

/* Each pair's counters (summed over the CPUs), in order. */
static int vnl_put_pairs(struct sk_buff *skb, struct vnl_device *vd)
{
	u64 sum[VNETLOOP_NUM_COUNTERS];
	unsigned int p;

	for (p = 0; p < vd->max_pairs; p++) {
		vnl_stats_read_pair(&vd->pairs[p], sum);
		if (vnl_put_counters(skb, VNETLOOP_A_QUEUE_STATS,
				     VNETLOOP_STATS_A_PAIR, p, sum))
			return -EMSGSIZE;
	}
	return 0;
}

/*
 * One device's reply. The totals are summed from the same per-CPU
 * snapshots that go into the message, so they always agree.
 */
static int vnl_fill_dev(struct sk_buff *skb, struct vnl_device *vd,
			u32 portid, u32 seq, int flags, bool per_cpu,
			bool per_queue)
{
	u64 v[VNETLOOP_NUM_COUNTERS], total[VNETLOOP_NUM_COUNTERS] = {};
	unsigned int i;
	void *hdr;
	int cpu;

	hdr = genlmsg_put(skb, portid, seq, &vnl_genl_family, flags,
			  VNETLOOP_CMD_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, VNETLOOP_A_DEV_ID, vd->id) ||
	    nla_put_u32(skb, VNETLOOP_A_OWNER_PID, vnl_owner_pid(vd)) ||
	    nla_put_u32(skb, VNETLOOP_A_NUM_COUNTERS, VNETLOOP_NUM_COUNTERS) ||
	    nla_put_u32(skb, VNETLOOP_A_QUEUE_PAIRS, vd->max_pairs))
		goto cancel;

	for_each_possible_cpu(cpu) {
		vnl_stats_read_cpu(vd, cpu, v);
		for (i = 0; i < VNETLOOP_NUM_COUNTERS; i++)
			total[i] += v[i];
		if (per_cpu &&
		    vnl_put_counters(skb, VNETLOOP_A_CPU_STATS,
				     VNETLOOP_STATS_A_CPU, cpu, v))
			goto cancel;
	}
	if (vnl_put_counters(skb, VNETLOOP_A_STATS, VNETLOOP_STATS_A_UNSPEC, 0,
			     total))
		goto cancel;
	if (per_queue && vnl_put_pairs(skb, vd))
		goto cancel;

	genlmsg_end(skb, hdr);
	return 0;

cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

/*
 * Who may see a device: CAP_NET_ADMIN sees every one; anyone else only the
 * devices opened under their own effective uid (/dev/vnetloop is root's
 * unless the administrator grants it), so that neither another user's
 * devices nor their owners' pids show. Others are "no such device".
 */
static bool vnl_genl_may_see(const struct sk_buff *skb,
			     const struct vnl_device *vd)
{
	return uid_eq(vd->uid, current_euid()) ||
	       netlink_capable(skb, CAP_NET_ADMIN);
}

static struct vnl_device *vnl_genl_lookup(struct sk_buff *skb,
					  struct genl_info *info)
{
	struct nlattr *attr = info->attrs[VNETLOOP_A_DEV_ID];
	struct vnl_device *vd;

	lockdep_assert_held(&vnl_devs_lock);
	vd = xa_load(&vnl_devs, nla_get_u32(attr));
	if (vd && !vnl_genl_may_see(skb, vd))
		vd = NULL;
	if (!vd)
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "no such device");
	return vd;
}

static int vnl_genl_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	bool per_cpu = nla_get_flag(info->attrs[VNETLOOP_A_PER_CPU]);
	bool per_queue = nla_get_flag(info->attrs[VNETLOOP_A_PER_QUEUE]);
	struct vnl_device *vd;
	struct sk_buff *msg;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, VNETLOOP_A_DEV_ID))
		return -EINVAL;

	/* Room for the most pairs: the device is not looked up yet. */
	msg = genlmsg_new(vnl_dev_msg_size(per_cpu,
					   per_queue ? VNL_MAX_PAIRS : 0),
			  GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	mutex_lock(&vnl_devs_lock);
	vd = vnl_genl_lookup(skb, info);
	err = vd ? vnl_fill_dev(msg, vd, info->snd_portid, info->snd_seq, 0,
				per_cpu, per_queue) : -ENODEV;
	mutex_unlock(&vnl_devs_lock);

	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

/* cb->args[0]: the next device id to dump. DEV_ID narrows it to one. */
static int vnl_genl_get_dumpit(struct sk_buff *skb,
			       struct netlink_callback *cb)
{
	struct nlattr **attrs = vnl_genl_dump_attrs(cb);
	unsigned long id, first = cb->args[0], last = ULONG_MAX;
	bool per_cpu = false, per_queue = false;
	struct vnl_device *vd;
	int err = 0;

	if (attrs) {
		per_cpu = nla_get_flag(attrs[VNETLOOP_A_PER_CPU]);
		per_queue = nla_get_flag(attrs[VNETLOOP_A_PER_QUEUE]);
		if (attrs[VNETLOOP_A_DEV_ID]) {
			last = nla_get_u32(attrs[VNETLOOP_A_DEV_ID]);
			first = max(first, last);
		}
	}

	mutex_lock(&vnl_devs_lock);
	xa_for_each_range(&vnl_devs, id, vd, first, last) {
		if (!vnl_genl_may_see(cb->skb, vd)) {
			cb->args[0] = id + 1;
			continue;
		}
		err = vnl_fill_dev(skb, vd, NETLINK_CB(cb->skb).portid,
				   cb->nlh->nlmsg_seq, NLM_F_MULTI, per_cpu,
				   per_queue);
		if (err)
			break;
		cb->args[0] = id + 1;
	}
	mutex_unlock(&vnl_devs_lock);

	/* One device that does not fit an empty message is an error. */
	if (err && !skb->len)
		return err;
	return skb->len;
}

static int vnl_genl_set_budget_doit(struct sk_buff *skb,
				    struct genl_info *info)
{
	struct nlattr *pkts = info->attrs[VNETLOOP_A_BUDGET_PACKETS];
	struct nlattr *bytes = info->attrs[VNETLOOP_A_BUDGET_BYTES];
	struct vnl_device *vd;

	if (GENL_REQ_ATTR_CHECK(info, VNETLOOP_A_DEV_ID))
		return -EINVAL;
	if (!pkts && !bytes) {
		NL_SET_ERR_MSG(info->extack, "no budget attribute given");
		return -EINVAL;
	}

	mutex_lock(&vnl_devs_lock);
	vd = vnl_genl_lookup(skb, info);
	if (vd) {
		/* The worker copies these into the engine before each drain. */
		if (pkts)
			WRITE_ONCE(vd->budget_packets, nla_get_u32(pkts));
		if (bytes)
			WRITE_ONCE(vd->budget_bytes, nla_get_u32(bytes));
	}
	mutex_unlock(&vnl_devs_lock);
	return vd ? 0 : -ENODEV;
}

static const struct genl_ops vnl_genl_ops[] = {
	{
		.cmd = VNETLOOP_CMD_GET,
		.doit = vnl_genl_get_doit,
		.dumpit = vnl_genl_get_dumpit,
		.policy = vnl_get_policy,
		.maxattr = VNETLOOP_A_MAX,
	},
	{
		.cmd = VNETLOOP_CMD_SET_BUDGET,
		.doit = vnl_genl_set_budget_doit,
		.policy = vnl_set_budget_policy,
		.maxattr = VNETLOOP_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
};

static struct genl_family vnl_genl_family __ro_after_init = {
	.name = VNETLOOP_GENL_NAME,
	.version = VNETLOOP_GENL_VERSION,
	.maxattr = VNETLOOP_A_MAX,
	.netnsok = false,
	.resv_start_op = 0,
	.module = THIS_MODULE,
	.ops = vnl_genl_ops,
	.n_ops = ARRAY_SIZE(vnl_genl_ops),
	.mcgrps = vnl_genl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(vnl_genl_mcgrps),
};

/* Events are sent from process context; a lost event is not an error. */
static void vnl_genl_event(u8 cmd, u32 dev_id, u32 pid, int queue)
{
	struct sk_buff *skb;
	void *hdr;

	if (!genl_has_listeners(&vnl_genl_family, &init_net, VNL_MCGRP_EVENTS))
		return;
	skb = genlmsg_new(3 * nla_total_size(sizeof(u32)), GFP_KERNEL);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &vnl_genl_family, 0, cmd);
	if (!hdr)
		goto err;
	if (nla_put_u32(skb, VNETLOOP_A_DEV_ID, dev_id))
		goto err;
	if (queue < 0 && nla_put_u32(skb, VNETLOOP_A_OWNER_PID, pid))
		goto err;
	if (queue >= 0 && nla_put_u32(skb, VNETLOOP_A_QUEUE, queue))
		goto err;
	genlmsg_end(skb, hdr);
	genlmsg_multicast(&vnl_genl_family, skb, 0, VNL_MCGRP_EVENTS,
			  GFP_KERNEL);
	return;

err:
	nlmsg_free(skb);
}

void vnl_genl_dev_event(u8 cmd, u32 dev_id, u32 pid)
{
	vnl_genl_event(cmd, dev_id, pid, -1);
}

void vnl_genl_poison_event(u32 dev_id, u32 queue)
{
	vnl_genl_event(VNETLOOP_CMD_QUEUE_POISONED, dev_id, 0, queue);
}

int __init vnl_genl_init(void)
{
	return genl_register_family(&vnl_genl_family);
}

void vnl_genl_exit(void)
{
	genl_unregister_family(&vnl_genl_family);
}
