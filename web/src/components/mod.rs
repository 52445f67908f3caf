//! One component per file; each gets the model (and a way to send actions) as props.

pub mod brokers;
pub mod clients;
pub mod controls;
pub mod groups;
pub mod live_view;
pub mod partitions;
pub mod producer_form;
pub mod timeline;
pub mod topic_form;
pub mod tour;
pub mod verdict;

use std::rc::Rc;

use yew::{Callback, Properties};

use crate::model::{Action, Model};
use crate::page_action::PageAction;

#[derive(Properties, PartialEq, Clone)]
pub struct ModelProps {
    pub model: Rc<Model>,
    pub dispatch: Callback<Action>,
}

impl ModelProps {
    /// A click handler that does `action` to the cluster.
    pub fn on_click(&self, action: PageAction) -> Callback<yew::MouseEvent> {
        let dispatch = self.dispatch.clone();
        Callback::from(move |_| dispatch.emit(Action::Do(action.clone())))
    }
}
