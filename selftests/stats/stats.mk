# Tests of `vnetloop stats` and `vnetloop monitor` (selftests/stats/):
#   nl_unit        the netlink client's parsing and the commands' output,
#                  no module needed
#   json_unit      the JSON writer: escaping, nesting, misuse (no module)
#   stats_test.sh  the tool against the real module (root, vnetloop.ko), with
#                  vnl_traffic playing the guest driver and runwith setting up
#                  denied, unprivileged and signal cases; jq parses the JSON
#
#   make stats-tests      build them into $(B)/selftests/stats/
#   make stats-unit-run   run nl_unit and json_unit here

STATS_T_DIR    := $(B)/selftests/stats
STATS_T_NLCF   := $(shell pkg-config --cflags libnl-genl-3.0 2>/dev/null)
STATS_T_NLLIB  := $(shell pkg-config --libs libnl-genl-3.0 2>/dev/null)
STATS_T_OUT    := $(B)/user/cmd/print.o $(B)/user/cmd/json.o
STATS_T_TOOL   := $(NL_CLIENT_OBJS) $(STATS_T_OUT) $(B)/user/cmd/cmd.o \
		  $(B)/user/cmd/stats.o $(B)/user/cmd/monitor.o
STATS_T_UNITS  := $(STATS_T_DIR)/nl_unit $(STATS_T_DIR)/json_unit
STATS_T_BINS   := $(STATS_T_UNITS) $(STATS_T_DIR)/vnl_traffic \
		  $(STATS_T_DIR)/runwith
STATS_T_HDRS   := $(wildcard selftests/stats/*.h user/*.h user/cmd/*.h \
		  user/nl/*.h)

$(STATS_T_DIR)/nl_unit: selftests/stats/nl_unit.c $(STATS_T_TOOL) \
		$(STATS_T_HDRS)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(STATS_T_NLCF) -o $@ $< $(STATS_T_TOOL) \
		$(STATS_T_NLLIB)

$(STATS_T_DIR)/json_unit: selftests/stats/json_unit.c $(STATS_T_OUT) \
		$(STATS_T_HDRS)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -o $@ $< $(STATS_T_OUT)

$(STATS_T_DIR)/vnl_traffic: selftests/stats/vnl_traffic.c $(VIRTQ_OBJ) \
		$(VIRTQ_HDRS) include/vnetloop/frame.h
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -o $@ $< $(VIRTQ_OBJ)

$(STATS_T_DIR)/runwith: selftests/stats/runwith.c
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -o $@ $<

.PHONY: stats-tests stats-unit-run
stats-tests: $(STATS_T_BINS)

stats-unit-run: $(STATS_T_UNITS)
	@scripts/check.d/15-stats-unit

all: $(STATS_T_BINS)
RIG_TESTS += $(STATS_T_UNITS) selftests/stats/stats_test.sh
RIG_FILES += selftests/tap.sh
RIG_FILES += $(B)/vnetloop $(STATS_T_DIR)/vnl_traffic $(STATS_T_DIR)/runwith \
	     $(shell command -v jq 2>/dev/null)
