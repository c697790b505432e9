"""The app's entry and Home page: the scenarios, your best scores, and how a practice session works."""
import streamlit as st

from ui.common import current_user, library, show_library_problems, store
from ui.frame import page_setup
from ui.navigation import PRACTICE
from ui.state import open_practice

page_setup("Home")

st.title("Practise ML system design interviews")
st.caption("Pick a scenario, sketch the system in 45 minutes, and get graded like an interviewer would.")

lib = library()
best = store().best_and_latest(user=current_user())
show_library_problems(lib)

if not lib.scenarios:
    st.error("No scenarios could be loaded. Run `python -m simulator validate` to see why.")
    st.stop()

DIFFICULTY = {"easy": ":green-badge[easy]", "medium": ":orange-badge[medium]", "hard": ":red-badge[hard]"}

cols = st.columns(3)
for i, (sid, scenario) in enumerate(lib.scenarios.items()):
    spec = scenario.spec
    with cols[i % 3].container(border=True):
        st.markdown(f"#### {spec.title}")
        st.markdown(f"{DIFFICULTY.get(spec.difficulty, spec.difficulty)} · {spec.duration_minutes} min · "
                    f"{int(spec.scale.peak_rps):,} req/s peak")
        st.caption(" · ".join(spec.topics))
        stats = best.get(sid)
        if stats:
            st.markdown(f"Best **{stats['best']:.0f}** · latest {stats['latest']:.0f} · "
                        f"{stats['attempts']} attempt(s)")
        else:
            st.markdown("Not attempted yet")
        if st.button("Start", key=f"start-{sid}", type="primary", width="stretch"):
            open_practice(sid)
            st.switch_page(PRACTICE)

st.divider()
st.subheader("How it works", anchor=False)
st.markdown(
    """
1. **Read the brief.** Each scenario gives requirements, scale numbers and a phase plan for the 45 minutes.
2. **Sketch the system** on the canvas (drag to connect components) or as text (`api: service x3 autoscale`,
   `api -> cache`, `router -fallback-> small_llm`). Both always show the same design.
3. **Write your notes and estimates**: assumptions, trade-offs, peak QPS, storage.
4. **Check and submit.** A rubric checks the graph: caching, fallback, monitoring, scaling and more, each
   failed check with its evidence, a hint and the follow-up question an interviewer would ask.
   In *interview* mode the checks stay hidden until you submit.
5. **Track progress** on the History page: scores over time, per category, exportable.

Your work is saved as you go: reload the page or open a second tab and you are where you left off.
"""
)
