"""quant_async.py — an arq-style async task for test_handler_python, served
by `python3 -m tickq.handler --max-jobs 4 quant_async`: jobs running at
once on one event loop each see their own job from get_current_job()."""
import asyncio

from tickq import get_current_job, task


async def fetch(note):
    await asyncio.sleep(0.3)            # the others run meanwhile
    job = get_current_job()
    return {"note": note, "id": job.id}


@task("arq_helper")
async def arq_helper(args, job):
    return {"deep": await fetch(args["note"]), "id": job.id}
