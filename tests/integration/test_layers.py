"""test_layers.py — scripts/check-layers, the include rule of src/
(docs/hacking.md, "Layers"): it passes on the tree as it is, and on a copy
of the tree with one wrong-way include planted it fails naming the file,
the line and the edge, also in a nested folder; a file directly in src/
fails. tests/run runs the check itself before the tests."""
import os
import unittest

from harness import SourceCheckCase


class TestLayers(SourceCheckCase):
    SCRIPT = "check-layers"

    def plant_include(self, relpath, header):
        """Adds #include "header" after the file's first include."""
        return self.plant(relpath, '#include "%s"' % header)

    def test_the_tree_points_down(self):
        self.assert_passes(says="every include in src/ points down")

    def test_the_copy_passes_before_planting(self):
        self.assert_passes(self.tmp)

    def test_core_including_a_domain_fails(self):
        line = self.plant_include("core/queue.c", "strategy/strategy.h")
        self.assert_fails('src/core/queue.c:%d: core/ includes "strategy/strategy.h": strategy/ is not below core/'
                          % line)

    def test_data_including_a_domain_fails(self):
        line = self.plant_include("data/db.c", "options/option_pricing.h")
        self.assert_fails('src/data/db.c:%d: data/ includes "options/option_pricing.h"' % line)

    def test_a_domain_including_another_domain_fails(self):
        line = self.plant_include("options/option_synth.c", "strategy/performance.h")
        self.assert_fails('src/options/option_synth.c:%d: options/ includes "strategy/performance.h": '
                          'strategy/ is not below options/' % line)

    def test_a_header_reaching_up_fails(self):
        line = self.plant_include("core/job.h", "cmd/cli.h")
        self.assert_fails('src/core/job.h:%d: core/ includes "cmd/cli.h"' % line)

    def test_an_include_without_its_folder_fails(self):
        line = self.plant_include("sched/cron.c", "tz.h")
        self.assert_fails('src/sched/cron.c:%d: includes "tz.h" without its folder (write "sched/tz.h")' % line)

    def test_an_include_by_absolute_path_or_reaching_out_of_src_fails(self):
        target = os.path.join(self.tmp, "src", "core", "job.h")  # exists: the path still names no header of src/
        line = self.plant_include("data/db.c", target)
        self.assert_fails('src/data/db.c:%d: includes "%s", which is not in src/' % (line, target))
        line = self.plant_include("data/bars.c", "../src/core/job.h")
        self.assert_fails('src/data/bars.c:%d: includes "../src/core/job.h", which is not in src/' % line)

    def test_the_generated_library_text_is_core_only(self):
        line = self.plant_include("cmd/main.c", "lua_scripts.h")
        self.assert_fails("src/cmd/main.c:%d: includes the generated lua_scripts.h, which only core/ may" % line)

    def test_a_folder_without_a_layer_fails(self):
        os.mkdir(os.path.join(self.tmp, "src", "misc"))
        with open(os.path.join(self.tmp, "src", "misc", "x.c"), "w") as f:
            f.write('#include "core/log.h"\n')
        self.assert_fails("src/misc/x.c: folder src/misc/ has no layer")

    def test_a_file_directly_in_src_fails(self):
        with open(os.path.join(self.tmp, "src", "stray.c"), "w") as f:
            f.write('#include "core/log.h"\n')
        self.assert_fails("src/stray.c: a file directly in src/ has no layer")

    def test_a_nested_folder_is_part_of_its_top_folder(self):
        """src/core/x/ is core/: a wrong-way include there fails like one in
        core/, its own and downward includes pass, and an include without
        its folder is told its nested folder."""
        nested = os.path.join(self.tmp, "src", "core", "x")
        os.mkdir(nested)
        with open(os.path.join(nested, "ok.h"), "w") as f:
            f.write('#include "core/log.h"\n#include "core/x/ok.h"\n')
        self.assert_passes(self.tmp)
        with open(os.path.join(nested, "up.c"), "w") as f:
            f.write('#include "core/x/ok.h"\n#include "data/db.h"\n#include "ok.h"\n')
        out = self.assert_fails('src/core/x/up.c:2: core/ includes "data/db.h": data/ is not below core/',
                                'src/core/x/up.c:3: includes "ok.h" without its folder (write "core/x/ok.h")')
        self.assertNotIn("ok.h:", out)

    def test_downward_and_own_folder_includes_pass(self):
        self.plant_include("cmd/cmd_job.c", "options/option_pricing.h")
        self.plant_include("strategy/performance.c", "data/bars.h")
        self.plant_include("sched/cron.c", "sched/market_calendar.h")
        self.assert_passes(self.tmp)


if __name__ == "__main__":
    unittest.main()
