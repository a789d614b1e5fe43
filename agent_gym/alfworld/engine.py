"""The state machine of the generated ALFWorld games, in plain Python.

It follows the rules of ALFWorld's PDDL domain (``alfred.pddl`` shipped with the ``alfworld``
package) and the texts of its TextWorld grammar (``alfred.twl2``): the same preconditions
decide which commands are admissible, the same effects change the state, the same
sentences describe it ("You arrive at countertop 1. On the countertop 1, you see a apple 1,
and a mug 1."). ``tests/test_alfworld.py`` plays generated games through textworld's PDDL
engine and this one side by side and checks that feedback and admissible commands agree.
Why not always play through textworld's PDDL engine? It derives every admissible command
through its grammar parser and costs ~75 ms a step on a small room; this costs ~0.1 ms.

Commands: ``go to R``, ``open R``, ``close R``, ``take O from R``, ``put O in/on R``
(ALFWorld 0.3 wording; ALFWorld 0.4's ``move O to R`` is accepted too, and is the wording
shown with ``put_style="move"``), ``clean O with R``, ``heat O with R``, ``cool O with R``,
``use O``, ``examine O`` / ``examine R``, ``inventory``, ``look``, ``help``. Anything that
is not admissible now gives ALFWorld's "Nothing happens." and changes nothing.
"""

from __future__ import annotations

import re
from typing import Any

from agent_gym.alfworld.world import Game

INTRO_BANNER = "-= Welcome to TextWorld, ALFRED! =-"
NOTHING_HAPPENS = "Nothing happens."
HELP_TEXT = ("Available commands:\n"
             "  look: look around where you are\n"
             "  inventory: what you are carrying\n"
             "  go to (receptacle): walk to a receptacle\n"
             "  open (receptacle) / close (receptacle)\n"
             "  take (object) from (receptacle)\n"
             "  put (object) in/on (receptacle)\n"
             "  examine (something)\n"
             "  use (object): switch an object on or off\n"
             "  heat (object) with (receptacle)\n"
             "  clean (object) with (receptacle)\n"
             "  cool (object) with (receptacle)")
PUT_STYLES = ("put", "move")


def list_phrase(names: list[str]) -> str:
    """TextWorld's list: "a x", "a x, and a y", "a x, a y, and a z", or "nothing"."""
    items = [f"a {n}" for n in names]
    if not items:
        return "nothing"
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + ", and " + items[-1]


def _sort_key(name: str) -> tuple[str, int]:
    kind, _, num = name.rpartition(" ")
    return (kind, int(num)) if num.isdigit() else (name, 0)


_SPACES = re.compile(r"\s+")
_PUT = re.compile(r"^(?:put|move|place) (.+?) (?:in/on|into|in|on|to) (.+)$")


def normalise_command(command: str) -> str:
    """Lower case, single spaces; ``move O to R`` / ``put O in R`` / ``put O on R`` ->
    ``put O in/on R`` (the canonical form the engine matches)."""
    text = _SPACES.sub(" ", command.strip().lower())
    m = _PUT.match(text)
    if m:
        text = f"put {m.group(1)} in/on {m.group(2)}"
    return text


class AlfredGame:
    """One game being played. ``reset()`` returns the intro; ``step(cmd)`` the feedback."""

    def __init__(self, game: Game, put_style: str = "put"):
        if put_style not in PUT_STYLES:
            raise ValueError(f"put_style must be one of {PUT_STYLES}, got {put_style!r}")
        self.game = game
        self.put_style = put_style
        self.receptacles = {r.name: r for r in sorted(game.receptacles, key=lambda r: _sort_key(r.name))}
        self.things = {t.name: t for t in sorted(game.things, key=lambda t: _sort_key(t.name))}
        self.reset()

    # ----- state ----------------------------------------------------------------------
    def reset(self) -> str:
        self.location: str | None = None                 # a receptacle name; None: middle of the room
        self.holding: str | None = None
        self.where: dict[str, str | None] = dict(self.game.start)   # thing -> receptacle (None: held)
        self.opened: set[str] = set()
        self.clean: set[str] = set()
        self.hot: set[str] = set()
        self.cool: set[str] = set(self.game.start_cool)
        self.toggled: set[str] = set()
        self.checked: set[str] = set()                   # receptacles whose contents were shown (for the expert)
        self.won = False
        self._admissible: list[str] | None = None
        room = ("You are in the middle of a room. Looking quickly around you, you see "
                f"{list_phrase(list(self.receptacles))}.")
        self.intro = f"{INTRO_BANNER}\n\n{room}\n\nYour task is to: {self.game.task.description}."
        return self.intro

    def contents(self, recep: str) -> list[str]:
        return [t for t in self.things if self.where.get(t) == recep]

    def is_open(self, recep: str) -> bool:
        return not self.receptacles[recep].openable or recep in self.opened

    def state_key(self) -> dict[str, Any]:
        return {"location": self.location, "holding": self.holding,
                "where": {t: r for t, r in sorted(self.where.items()) if r is not None},
                "opened": sorted(self.opened), "clean": sorted(self.clean), "hot": sorted(self.hot),
                "cool": sorted(self.cool), "toggled": sorted(self.toggled)}

    # ----- texts ----------------------------------------------------------------------
    def _describe_receptacle(self, name: str) -> str:
        recep = self.receptacles[name]
        if recep.openable and name in self.opened:
            return f"The {name} is open. In it, you see {list_phrase(self.contents(name))}."
        if recep.openable:
            return f"The {name} is closed."
        return f"On the {name}, you see {list_phrase(self.contents(name))}."

    def _look(self) -> str:
        if self.location is None:
            # as ALFWorld's grammar and its controllers (alfworld/agents/controller/oracle.py) answer:
            # the receptacles are listed only in the intro, a later look sees nothing
            return "You are in the middle of a room. Looking quickly around you, you see nothing."
        return f"You are facing the {self.location}. Next to it, you see nothing."

    def _examine_thing(self, name: str) -> str:
        thing = self.things[name]
        clean, hot, cool = name in self.clean, name in self.hot, name in self.cool
        if clean and hot:
            return f"This is a hot and clean {name}."
        if clean and cool:
            return f"This is a cool and clean {name}."
        if hot:
            return f"This is a hot {name}."
        if clean:
            return f"This is a clean {name}."
        if cool:
            return f"This is a cold {name}."
        if thing.toggleable:
            return f"This {name} is {'on' if name in self.toggled else 'off'}."
        return f"There's nothing special about {name}."

    def _shown(self, recep: str) -> None:
        if self.is_open(recep):
            self.checked.add(recep)

    # ----- commands -------------------------------------------------------------------
    def admissible(self) -> list[str]:
        """The admissible commands now, sorted (as textworld's PDDL engine lists them)."""
        if self._admissible is None:
            self._admissible = sorted(set(self._commands()))
        return list(self._admissible)

    def _put_text(self, thing: str, recep: str) -> str:
        return f"put {thing} in/on {recep}" if self.put_style == "put" else f"move {thing} to {recep}"

    def _commands(self):
        yield from ("help", "inventory", "look")
        for name in self.receptacles:
            if name != self.location:
                yield f"go to {name}"
        if self.holding is not None:
            yield f"examine {self.holding}"
        here = self.location
        if here is None:
            return
        recep = self.receptacles[here]
        yield f"examine {here}"
        if recep.openable:
            yield f"close {here}" if here in self.opened else f"open {here}"
        inside = self.contents(here)
        for t in inside:
            if self.things[t].toggleable:
                yield f"use {t}"
        if self.holding is None:
            if self.is_open(here):
                for t in inside:
                    if self.things[t].pickupable:
                        yield f"take {t} from {here}"
            return
        held = self.things[self.holding]
        if self.is_open(here) and self.game.can_contain(recep, held):
            yield self._put_text(held.name, here)
        if recep.rtype == "sinkbasin" and held.cleanable:
            yield f"clean {held.name} with {here}"
        if recep.rtype == "microwave" and held.heatable:
            yield f"heat {held.name} with {here}"
        if recep.rtype == "fridge" and held.coolable:
            yield f"cool {held.name} with {here}"

    def step(self, command: str) -> tuple[str, bool]:
        """Apply a command: (feedback, applied). Not admissible: ("Nothing happens.", False)."""
        text = normalise_command(command)
        canonical = {normalise_command(c): c for c in self.admissible()}
        if text not in canonical:
            return NOTHING_HAPPENS, False
        feedback = self._apply(canonical[text])
        self._admissible = None
        self.won = self._check_goal()
        return feedback, True

    def _apply(self, cmd: str) -> str:
        if cmd == "look":
            return self._look()
        if cmd == "help":
            return HELP_TEXT
        if cmd == "inventory":
            return f"You are carrying: a {self.holding}." if self.holding else "You are not carrying anything."
        verb, _, rest = cmd.partition(" ")
        if verb == "go":
            name = rest[len("to "):]
            self.location = name
            self._shown(name)
            return f"You arrive at {name}. {self._describe_receptacle(name)}"
        if verb == "open":
            self.opened.add(rest)
            self._shown(rest)
            return f"You open the {rest}. {self._describe_receptacle(rest)}"
        if verb == "close":
            self.opened.discard(rest)
            return f"You close the {rest}."
        if verb == "examine":
            if rest in self.receptacles:
                self._shown(rest)
                return self._describe_receptacle(rest)
            return self._examine_thing(rest)
        if verb == "use":
            self.toggled.add(rest)
            return f"You turn on the {rest}."
        if verb == "take":
            thing, recep = rest.split(" from ", 1)
            self.where[thing] = None
            self.holding = thing
            return f"You pick up the {thing} from the {recep}."
        if verb in ("put", "move"):
            thing = self.holding
            recep = self.location
            self.where[thing] = recep
            self.holding = None
            return (f"You put the {thing} in/on the {recep}." if self.put_style == "put"
                    else f"You move the {thing} to the {recep}.")
        thing, recep = rest.split(" with ", 1)
        if verb == "clean":
            self.clean.add(thing)
            return f"You clean the {thing} using the {recep}."
        if verb == "heat":
            self.hot.add(thing)
            self.cool.discard(thing)
            return f"You heat the {thing} using the {recep}."
        self.cool.add(thing)           # cool
        self.hot.discard(thing)
        return f"You cool the {thing} using the {recep}."

    # ----- the goal -------------------------------------------------------------------
    def _in_target(self, thing: str) -> str | None:
        recep = self.where.get(thing)
        if recep is not None and self.receptacles[recep].rtype == self.game.task.recep:
            return recep
        return None

    def _check_goal(self) -> bool:
        task = self.game.task
        of_type = [t for t, th in self.things.items() if th.otype == task.obj]
        if task.task_type == "look_at_obj_in_light":
            held = self.holding is not None and self.things[self.holding].otype == task.obj
            lit = any(th.otype == task.toggle and t in self.toggled and self.where.get(t) == self.location
                      and self.location is not None for t, th in self.things.items())
            return held and lit
        if task.task_type == "pick_two_obj_and_place":
            per_recep: dict[str, int] = {}
            for t in of_type:
                r = self._in_target(t)
                if r is not None:
                    per_recep[r] = per_recep.get(r, 0) + 1
            return any(n >= 2 for n in per_recep.values())
        needs = {"pick_clean_then_place_in_recep": self.clean, "pick_heat_then_place_in_recep": self.hot,
                 "pick_cool_then_place_in_recep": self.cool}.get(task.task_type)
        return any(self._in_target(t) is not None and (needs is None or t in needs) for t in of_type)
